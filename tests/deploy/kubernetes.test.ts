import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from '../support/host-process';
import { envOf, readStages, stageNamed } from './support/dockerfile';

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface Container {
  image?: string;
  ports?: { name?: string; containerPort?: number }[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface Resource {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: {
    replicas?: number;
    accessModes?: string[];
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: {
        containers?: Container[];
        volumes?: { name: string; persistentVolumeClaim?: { claimName?: string } }[];
      };
    };
    ports?: { port?: number; targetPort?: number | string }[];
  };
}

const documents = parseAllDocuments(
  readFileSync(path.join(projectRoot, 'deploy/kubernetes.yaml'), 'utf8'),
);
const resources = documents.map((document) => document.toJS() as Resource);
const byKind = (kind: string) => {
  const found = resources.filter((resource) => resource.kind === kind);
  if (found.length !== 1)
    throw new Error(`expected one ${kind} in deploy/kubernetes.yaml, found ${found.length}`);
  return found[0];
};
const deployment = byKind('Deployment');
const claim = byKind('PersistentVolumeClaim');
const service = byKind('Service');
const pod = deployment.spec?.template?.spec;
const [container] = pod?.containers ?? [];
const containerPort = (port: number | string | undefined) =>
  typeof port === 'number'
    ? port
    : container.ports?.find((candidate) => candidate.name === port)?.containerPort;

describe('deploy/kubernetes.yaml', () => {
  it('parses as YAML documents without errors, each a resource with apiVersion, kind and name', () => {
    expect(documents.flatMap((document) => document.errors)).toEqual([]);
    for (const resource of resources) {
      expect(resource).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String) });
      expect(resource.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('runs three replicas of one container', () => {
    expect(deployment.apiVersion).toBe('apps/v1');
    expect(deployment.spec?.replicas).toBe(3);
    expect(pod?.containers).toHaveLength(1);
  });

  it('selects exactly the pods it creates, in the Deployment and in the Service', () => {
    const podLabels = deployment.spec?.template?.metadata?.labels ?? {};
    expect(podLabels).toMatchObject(
      deployment.spec?.selector?.matchLabels ?? { missing: 'matchLabels' },
    );
    const { selector = {} } = service.spec ?? {};
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(podLabels).toMatchObject(selector);
  });

  it('shares one ReadWriteMany volume between the replicas, mounted where the image keeps the counter', () => {
    expect(claim.spec?.accessModes).toEqual(['ReadWriteMany']);
    const volume = pod?.volumes?.find(
      (candidate) => candidate.persistentVolumeClaim?.claimName === claim.metadata?.name,
    );
    expect(volume).toBeDefined();
    const mount = container.volumeMounts?.find((candidate) => candidate.name === volume?.name);
    const dataDir = container.env?.find((variable) => variable.name === 'COUNTER_DATA_DIR')?.value;
    expect(mount?.mountPath).toBe(
      dataDir ?? envOf(stageNamed(readStages(), 'standalone')).COUNTER_DATA_DIR,
    );
    expect(mount?.mountPath).toBe('/app/local_dir');
  });

  it('checks readiness and liveness with GET /health on the port the app listens on (8000)', () => {
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe?.httpGet?.path).toBe('/health');
      expect(containerPort(probe?.httpGet?.port)).toBe(8000);
    }
  });

  it('exposes the replicas through a Service that targets the container port', () => {
    const [port] = service.spec?.ports ?? [];
    expect(containerPort(port?.targetPort)).toBe(8000);
  });

  it('runs an image built from one of the Dockerfile targets', () => {
    const targets = readStages()
      .map((stage) => stage.name)
      .filter((name) => name !== 'build');
    expect(targets.map((target) => `rusty-counter:${target}`)).toContain(container.image);
  });
});
