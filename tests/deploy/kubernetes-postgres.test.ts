import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyPatch, type Operation } from 'fast-json-patch';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import { parse, parseAllDocuments } from 'yaml';
import { projectRoot } from '../support/host-process';
import { crdValidator, schemaErrors } from './support/crd-schema';
import { misspell, typeErrors } from './support/typecheck';

// deploy/kubernetes/postgres/ is a kustomize overlay of deploy/kubernetes/. Built here as
// `kubectl apply -k` builds it: the base's resources, the overlay's own, then its patches
// (RFC 6902 JSON patches, applied with fast-json-patch), so that what is checked below is what
// reaches the cluster.

interface Kustomization {
  resources?: string[];
  patches?: { path: string; target: { kind: string; name: string } }[];
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
  spec?: unknown;
}

const readYaml = (file: string): unknown => parse(readFileSync(file, 'utf8'));

/** The resources a kustomization directory stands for, patches applied. */
function build(directory: string): Resource[] {
  const kustomization = readYaml(path.join(directory, 'kustomization.yaml')) as Kustomization;
  const resources = (kustomization.resources ?? []).flatMap((entry): Resource[] => {
    const where = path.join(directory, entry);
    return entry.endsWith('.yaml')
      ? parseAllDocuments(readFileSync(where, 'utf8')).map(
          (document) => document.toJS() as Resource,
        )
      : build(where);
  });
  for (const { path: patchFile, target } of kustomization.patches ?? []) {
    const matching = resources.filter(
      (resource) => resource.kind === target.kind && resource.metadata?.name === target.name,
    );
    if (matching.length !== 1) throw new Error(`${patchFile}: ${matching.length} targets`);
    const operations = readYaml(path.join(directory, patchFile)) as Operation[];
    // Validation on: a path that does not exist throws instead of adding to nothing.
    applyPatch(matching[0], operations, true, true);
  }
  return resources;
}

const overlay = path.join(projectRoot, 'deploy/kubernetes/postgres');
const resources = build(overlay);
const base = build(path.join(projectRoot, 'deploy/kubernetes'));
const one = <T>(kind: string, from = resources): T => {
  const found = from.filter((resource) => resource.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as T;
};

interface Cluster extends Resource {
  metadata: { name: string };
  spec: {
    instances: number;
    postgresql?: {
      synchronous?: { method: string; number: number; dataDurability?: string };
      parameters?: Record<string, string>;
    };
    bootstrap?: { initdb?: { database?: string; owner?: string } };
  };
}
const cluster = one<Cluster>('Cluster');
const deployment = one<Deployment>('Deployment');
const autoscaler = one<HorizontalPodAutoscaler>('HorizontalPodAutoscaler');
const [container] = deployment.spec?.template.spec?.containers ?? [];
const validCluster = crdValidator('cnpg-cluster.schema.json');

describe('deploy/kubernetes/postgres/ (kubectl apply -k)', () => {
  it('holds the manifests of deploy/kubernetes/ and one CloudNativePG Cluster, nothing else', () => {
    const names = (list: Resource[]) =>
      list.map(({ kind, metadata }) => `${kind} ${metadata?.name}`);
    expect(names(resources).sort()).toEqual(
      [...names(base), `Cluster ${cluster.metadata.name}`].sort(),
    );
    expect(cluster.apiVersion).toBe('postgresql.cnpg.io/v1');
  });

  it('still matches the Kubernetes API types once patched', () => {
    const checked = [deployment, autoscaler] as Resource[];
    const errors = typeErrors(
      checked.map((resource) => ({
        value: resource,
        type: `import('kubernetes-types/${resource.apiVersion.split('/')[0]}/${resource.apiVersion.split('/')[1]}').${resource.kind}`,
      })),
    );
    expect(errors).toEqual([[], []]);
  });

  it("gives the Cluster only fields of CloudNativePG's schema (its CRD's, v1.30.0)", () => {
    expect(schemaErrors(validCluster, cluster)).toEqual([]);
  });

  it.each([
    { from: 'instances', to: 'instancse' },
    { from: 'dataDurability', to: 'dataDurabilty' },
    { from: 'initdb', to: 'initDb' },
  ])('fails that check with "$to" for "$from"', ({ from, to }) => {
    const errors = schemaErrors(validCluster, misspell(cluster, from, to));
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error).toMatch(new RegExp(`\\(${to}\\)|required`));
  });

  it('fails that check with a value the schema does not allow', () => {
    const broken = structuredClone(cluster);
    broken.spec.postgresql = { synchronous: { method: 'all', number: 1 } };
    expect(schemaErrors(validCluster, broken)).toEqual([
      expect.stringContaining('/spec/postgresql/synchronous/method'),
    ]);
  });

  it('replicates synchronously: each COMMIT waits for a standby, and waits rather than go on without one', () => {
    const synchronous = cluster.spec.postgresql?.synchronous;
    expect(synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required' });
    // One instance may be lost and a standby still confirms every commit.
    expect(cluster.spec.instances).toBeGreaterThanOrEqual((synchronous?.number ?? 0) + 2);
    // fsync and synchronous_commit stay at PostgreSQL's defaults (on).
    expect(cluster.spec.postgresql?.parameters?.fsync).toBeUndefined();
    expect(cluster.spec.postgresql?.parameters?.synchronous_commit).toBeUndefined();
  });

  it('reads COUNTER_DATABASE_URL from the Secret CloudNativePG writes for the owner of the database, never optional', () => {
    const variable = container.env?.find(({ name }) => name === 'COUNTER_DATABASE_URL');
    // CloudNativePG names it <cluster>-app; its "uri" is postgresql://<owner>:…@<cluster>-rw.<namespace>:5432/<database>.
    expect(variable?.valueFrom?.secretKeyRef).toEqual({
      name: `${cluster.metadata.name}-app`,
      key: 'uri',
    });
    expect(cluster.spec.bootstrap?.initdb).toEqual({
      database: expect.any(String),
      owner: expect.any(String),
    });
    const fileStore = one<Deployment>('Deployment', base).spec?.template.spec?.containers[0];
    expect(fileStore?.env?.some(({ name }) => name === 'COUNTER_DATABASE_URL')).toBe(false);
  });

  it('keeps the shared volume, where the backup timer writes the backup.bin files', () => {
    const claim = one<PersistentVolumeClaim>('PersistentVolumeClaim');
    const volume = deployment.spec?.template.spec?.volumes?.find(
      (candidate) => candidate.persistentVolumeClaim?.claimName === claim.metadata?.name,
    );
    expect(container.volumeMounts?.find(({ name }) => name === volume?.name)?.mountPath).toBe(
      '/app/local_dir',
    );
  });

  it('lets the autoscaler go past the file store\'s 4 replicas, to 10 (docs/deploy/scaling.md, "Database curve")', () => {
    const fileStore = one<HorizontalPodAutoscaler>('HorizontalPodAutoscaler', base);
    expect(fileStore.spec?.maxReplicas).toBeLessThanOrEqual(4);
    expect(autoscaler.spec?.maxReplicas).toBe(10);
    expect(autoscaler.spec?.minReplicas).toBe(fileStore.spec?.minReplicas);
  });
});
