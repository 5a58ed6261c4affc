import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  KnownActiveRevisionsMode,
  KnownIngressTransportMethod,
  KnownStorageType,
  KnownType,
  type Container,
  type ContainerAppProbe,
  type Ingress,
  type RegistryCredentials,
  type Scale,
  type Secret,
  type Volume,
} from '@azure/arm-appcontainers';
import { parseDocument } from 'yaml';
import { projectRoot } from '../support/host-process';
import { imageTags } from './support/dockerfile';
import { unknownProperties } from './support/container-apps-model';
import { shutdownTimesOf } from './support/shutdown';
import { misspell } from './support/typecheck';
import { workerProcessesFor } from './support/workers';

const file = path.join(projectRoot, 'deploy/container-apps/containerapp.yaml');
const document = parseDocument(readFileSync(file, 'utf8'));

/** The resource in its REST form; the SDK's types name the same objects, flattened. */
interface ContainerAppResource {
  location: string;
  identity: { type: string; userAssignedIdentities: Record<string, object> };
  properties: {
    managedEnvironmentId: string;
    configuration: {
      activeRevisionsMode: string;
      ingress: Ingress;
      registries: RegistryCredentials[];
      secrets?: Secret[];
    };
    template: {
      terminationGracePeriodSeconds: number;
      containers: Container[];
      scale: Scale;
      volumes: Volume[];
    };
  };
}
const app = document.toJS() as ContainerAppResource;
const { configuration, template } = app.properties;
const [container] = template.containers;
const env = Object.fromEntries(
  (container.env ?? []).map(({ name, value }) => [name ?? '', value ?? '']),
);
const probe = (type: string): ContainerAppProbe | undefined =>
  container.probes?.find((candidate) => candidate.type === type);

describe('deploy/container-apps/containerapp.yaml', () => {
  it('parses as one YAML document without errors', () => {
    expect(document.errors).toEqual([]);
  });

  it('holds only properties of the Container Apps REST model, of the right types', () => {
    expect(unknownProperties('ContainerApp', app)).toEqual([]);
  });

  it.each([
    { from: 'terminationGracePeriodSeconds', to: 'terminationGracePeriod' },
    // (The rule's metadata is a free map of KEDA settings, so its keys are checked below.)
    { from: 'http', to: 'htp' },
    { from: 'volumeMounts', to: 'volumeMount' },
    { from: 'failureThreshold', to: 'failureTreshold' },
  ])('fails that check with "$to" for "$from"', ({ from, to }) => {
    const found = unknownProperties('ContainerApp', misspell(app, from, to));
    expect(found.length).toBeGreaterThan(0);
    for (const where of found) expect(where).toContain(to);
  });

  it('fails that check with a value of the wrong type', () => {
    const broken = structuredClone(app);
    broken.properties.template.scale.maxReplicas = 'four' as unknown as number;
    expect(() => unknownProperties('ContainerApp', broken)).toThrow(/maxReplicas/);
  });

  it('uses values the REST model knows where it lists them', () => {
    expect(Object.values(KnownActiveRevisionsMode)).toContain(configuration.activeRevisionsMode);
    expect(Object.values(KnownIngressTransportMethod)).toContain(configuration.ingress.transport);
    for (const volume of template.volumes)
      expect(Object.values(KnownStorageType)).toContain(volume.storageType);
    for (const { type } of container.probes ?? []) expect(Object.values(KnownType)).toContain(type);
  });

  it('routes the ingress to the port the app listens on (8000)', () => {
    expect(configuration.ingress.targetPort).toBe(8000);
  });

  it('keeps the counter on an Azure Files share, mounted where the image keeps it, owned by its user', () => {
    const volume = template.volumes.find((candidate) => candidate.storageType === 'AzureFile');
    expect(volume?.storageName).toBeDefined();
    const mount = container.volumeMounts?.find(
      (candidate) => candidate.volumeName === volume?.name,
    );
    expect(mount?.mountPath).toBe(env.COUNTER_DATA_DIR);
    expect(mount?.mountPath).toBe('/app/local_dir');
    const options = volume?.mountOptions?.split(',') ?? [];
    expect(options).toEqual(expect.arrayContaining(['uid=1000', 'gid=1000']));
    // nobrl keeps byte-range locks on the client: replicas would not exclude each other.
    expect(options).not.toContain('nobrl');
  });

  it('checks startup, readiness and liveness with GET /health on port 8000', () => {
    for (const type of ['Startup', 'Readiness', 'Liveness']) {
      expect(probe(type)?.httpGet).toEqual({ path: '/health', port: 8000 });
    }
    // A storage outage takes a replica out of the ingress before it gets restarted.
    const givesUpAfter = (type: string) =>
      (probe(type)?.periodSeconds ?? 10) * (probe(type)?.failureThreshold ?? 3);
    expect(givesUpAfter('Liveness')).toBeGreaterThan(givesUpAfter('Readiness'));
  });

  it('pulls its image from the registry it names, with an identity the app has', () => {
    const [registry] = configuration.registries;
    expect(container.image?.startsWith(`${registry.server}/`)).toBe(true);
    expect(Object.keys(app.identity.userAssignedIdentities)).toContain(registry.identity);
  });

  it('runs an image built from one of the Dockerfile targets', () => {
    expect(imageTags()).toContain(container.image?.split('/').at(-1));
  });

  it('scales on concurrent HTTP requests between at least two replicas and a few more', () => {
    const { minReplicas = 0, maxReplicas = 10, rules = [] } = template.scale;
    expect(minReplicas).toBeGreaterThanOrEqual(2);
    expect(maxReplicas).toBeGreaterThan(minReplicas);
    // Beyond the 4 processes measured in docs/deploy/scaling.md, nobody knows what happens.
    expect(maxReplicas).toBeLessThanOrEqual(4);
    expect(rules).toEqual([
      { name: expect.any(String), http: { metadata: { concurrentRequests: expect.any(String) } } },
    ]);
    expect(Number(rules[0].http?.metadata?.concurrentRequests)).toBeGreaterThan(0);
  });

  it('runs one app process per core the replica gets (FUNCTIONS_WORKER_PROCESS_COUNT)', () => {
    expect(Number(env.FUNCTIONS_WORKER_PROCESS_COUNT)).toBe(
      workerProcessesFor(Number(container.resources?.cpu)),
    );
  });

  it('gives a stopping replica time to finish its changes before it is killed', () => {
    const { shutdownTimeoutMs, lockTimeoutMs } = shutdownTimesOf(env);
    expect(template.terminationGracePeriodSeconds).toBeGreaterThan(shutdownTimeoutMs / 1000);
    expect(shutdownTimeoutMs).toBeGreaterThan(lockTimeoutMs);
  });
});

describe('deploy/container-apps/containerapp-postgres.yaml (the counters in PostgreSQL)', () => {
  const databaseFile = path.join(projectRoot, 'deploy/container-apps/containerapp-postgres.yaml');
  const databaseDocument = parseDocument(readFileSync(databaseFile, 'utf8'));
  const databaseApp = databaseDocument.toJS() as ContainerAppResource;
  const [databaseContainer] = databaseApp.properties.template.containers;
  const url = databaseContainer.env?.find(({ name }) => name === 'COUNTER_DATABASE_URL');

  it('parses, and holds only properties of the Container Apps REST model', () => {
    expect(databaseDocument.errors).toEqual([]);
    expect(unknownProperties('ContainerApp', databaseApp)).toEqual([]);
  });

  it.each([
    { from: 'secretRef', to: 'secretReference' },
    { from: 'keyVaultUrl', to: 'keyVaultUri' },
  ])('fails that check with "$to" for "$from"', ({ from, to }) => {
    const found = unknownProperties('ContainerApp', misspell(databaseApp, from, to));
    expect(found.length).toBeGreaterThan(0);
    for (const where of found) expect(where).toContain(to);
  });

  it("reads COUNTER_DATABASE_URL from a secret that refers to Key Vault, with one of the app's identities", () => {
    expect(url?.value).toBeUndefined();
    const secret = databaseApp.properties.configuration.secrets?.find(
      ({ name }) => name === url?.secretRef,
    );
    expect(secret?.value).toBeUndefined();
    expect(secret?.keyVaultUrl).toMatch(/^https:\/\/[\w-]+\.vault\.azure\.net\/secrets\/[\w-]+$/);
    expect(Object.keys(databaseApp.identity.userAssignedIdentities)).toContain(secret?.identity);
  });

  it('is containerapp.yaml plus that secret and a maximum of 10 replicas (docs/deploy/scaling.md, "Database curve")', () => {
    const expected = structuredClone(app);
    expected.properties.configuration.secrets = databaseApp.properties.configuration.secrets;
    expected.properties.template.containers[0].env = [...(container.env ?? []), url ?? {}];
    expected.properties.template.scale.maxReplicas = 10;
    expect(databaseApp).toEqual(expected);
  });
});
