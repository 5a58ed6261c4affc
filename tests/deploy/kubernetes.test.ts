import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { Container, PersistentVolumeClaim, Service } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { parse, parseAllDocuments } from 'yaml';
import { projectRoot } from '../support/host-process';
import { envOf, readStages, stageNamed } from './support/dockerfile';
import { shutdownTimesOf } from './support/shutdown';
import { misspell, typeErrors } from './support/typecheck';
import { cpuCores } from './support/kubernetes';
import { workerProcessesFor } from './support/workers';

const directory = path.join(projectRoot, 'deploy/kubernetes');
/** kustomize's own file: it lists the manifests, it is not one. */
const KUSTOMIZATION = 'kustomization.yaml';
const manifestFiles = readdirSync(directory)
  .filter((file) => file.endsWith('.yaml') && file !== KUSTOMIZATION)
  .sort();
const documents = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(directory, file), 'utf8')).map((document) => ({
    file,
    document,
  })),
);

interface Resource {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}
const resources = documents.map(({ document }) => document.toJS() as Resource);
const byKind = <T>(kind: string): T => {
  const found = resources.filter((resource) => resource.kind === kind);
  if (found.length !== 1)
    throw new Error(`expected one ${kind} in deploy/kubernetes/, found ${found.length}`);
  return found[0] as T;
};
const deployment = byKind<Deployment>('Deployment');
const claim = byKind<PersistentVolumeClaim>('PersistentVolumeClaim');
const service = byKind<Service>('Service');
const autoscaler = byKind<HorizontalPodAutoscaler>('HorizontalPodAutoscaler');
const budget = byKind<PodDisruptionBudget>('PodDisruptionBudget');
const pod = deployment.spec?.template.spec;
const [container] = pod?.containers ?? ([] as Container[]);
const podLabels = deployment.spec?.template.metadata?.labels ?? {};
const env = Object.fromEntries(
  (container.env ?? []).flatMap((variable) =>
    variable.value === undefined ? [] : [[variable.name, variable.value]],
  ),
);
const kustomization = parse(readFileSync(path.join(directory, KUSTOMIZATION), 'utf8')) as {
  resources?: string[];
};
const containerPort = (port: number | string | undefined) =>
  typeof port === 'number'
    ? port
    : container.ports?.find((candidate) => candidate.name === port)?.containerPort;

/** kubernetes-types has a module per API group and version: apps/v1 → kubernetes-types/apps/v1. */
function typeOf({ apiVersion, kind }: Resource): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  return `import('kubernetes-types/${group.split('.')[0]}/${version}').${kind}`;
}

const misspellings: { resource: Resource; from: string; to: string }[] = [
  { resource: deployment as Resource, from: 'readinessProbe', to: 'readinesProbe' },
  {
    resource: deployment as Resource,
    from: 'terminationGracePeriodSeconds',
    to: 'terminationGracePeriod',
  },
  {
    resource: autoscaler as Resource,
    from: 'stabilizationWindowSeconds',
    to: 'stabilisationWindowSeconds',
  },
  { resource: budget as Resource, from: 'maxUnavailable', to: 'maxUnavailble' },
];

// One compiler run for the manifests and their misspelt copies: it takes seconds.
let errors: string[][];
beforeAll(() => {
  errors = typeErrors([
    ...resources.map((resource) => ({ value: resource, type: typeOf(resource) })),
    ...misspellings.map(({ resource, from, to }) => ({
      value: misspell(resource, from, to),
      type: typeOf(resource),
    })),
  ]);
});

describe('deploy/kubernetes/', () => {
  it('parses as YAML documents without errors, each a resource with apiVersion, kind and name', () => {
    expect(documents.flatMap(({ document }) => document.errors)).toEqual([]);
    for (const resource of resources) {
      expect(resource).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String) });
      expect(resource.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('holds only resources that match the Kubernetes API types of their apiVersion and kind', () => {
    const problems = resources.map((resource, index) => ({
      resource: `${resource.kind} ${resource.metadata?.name}`,
      errors: errors[index],
    }));
    expect(problems.filter((problem) => problem.errors.length > 0)).toEqual([]);
  });

  it.each(misspellings.map((misspelling, index) => ({ ...misspelling, index })))(
    'fails that check for a $resource.kind with "$to" for "$from"',
    ({ to, index }) => {
      const found = errors[resources.length + index];
      // Once per place the field is used, and nothing else.
      expect(found.length).toBeGreaterThan(0);
      for (const error of found) expect(error).toContain(`'"${to}"' does not exist`);
    },
  );

  it('lists every manifest of the directory in its kustomization, so `kubectl apply -k` applies them all', () => {
    expect([...(kustomization.resources ?? [])].sort()).toEqual(manifestFiles);
  });

  it('runs one app process per core of its CPU limit (FUNCTIONS_WORKER_PROCESS_COUNT from limits.cpu)', () => {
    const variable = container.env?.find(({ name }) => name === 'FUNCTIONS_WORKER_PROCESS_COUNT');
    // The downward API gives the limit in whole cores, rounded up: 2 for "2", 1 for "500m".
    expect(variable?.valueFrom?.resourceFieldRef).toEqual({ resource: 'limits.cpu', divisor: '1' });
    // Without a limit it would read the node's cores, maybe past the host's maximum of 10.
    const processes = Math.ceil(cpuCores(container.resources?.limits?.cpu));
    // Within the host's 1 to 10, where one process a core is what workerProcessesFor gives.
    expect(processes).toBe(workerProcessesFor(processes));
  });

  it('runs one container and leaves the replica count to the HorizontalPodAutoscaler', () => {
    expect(pod?.containers).toHaveLength(1);
    // A count here would reset the autoscaler's choice at every kubectl apply.
    expect(deployment.spec?.replicas).toBeUndefined();
  });

  it('selects exactly the pods it creates, in the Deployment, the Service and the budget', () => {
    expect(podLabels).toMatchObject(
      deployment.spec?.selector.matchLabels ?? { missing: 'matchLabels' },
    );
    const { selector = {} } = service.spec ?? {};
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(podLabels).toMatchObject(selector);
    expect(podLabels).toMatchObject(budget.spec?.selector?.matchLabels ?? { missing: 'selector' });
  });

  it('shares one ReadWriteMany volume between the replicas, mounted where the image keeps the counter', () => {
    expect(claim.spec?.accessModes).toEqual(['ReadWriteMany']);
    const volume = pod?.volumes?.find(
      (candidate) => candidate.persistentVolumeClaim?.claimName === claim.metadata?.name,
    );
    expect(volume).toBeDefined();
    const mount = container.volumeMounts?.find((candidate) => candidate.name === volume?.name);
    expect(mount?.mountPath).toBe(
      env.COUNTER_DATA_DIR ?? envOf(stageNamed(readStages(), 'standalone')).COUNTER_DATA_DIR,
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

  it('scales the Deployment on CPU between at least two replicas and a few more', () => {
    expect(autoscaler.apiVersion).toBe('autoscaling/v2');
    expect(autoscaler.spec?.scaleTargetRef).toEqual({
      apiVersion: deployment.apiVersion,
      kind: 'Deployment',
      name: deployment.metadata?.name,
    });
    expect(autoscaler.spec?.metrics).toEqual([
      {
        type: 'Resource',
        resource: {
          name: 'cpu',
          target: { type: 'Utilization', averageUtilization: expect.any(Number) },
        },
      },
    ]);
    // Utilization is a share of the request: without one the autoscaler cannot compute it.
    expect(container.resources?.requests?.cpu).toBeDefined();
    const { minReplicas = 1, maxReplicas } = autoscaler.spec ?? { maxReplicas: 0 };
    expect(minReplicas).toBeGreaterThanOrEqual(2);
    expect(maxReplicas).toBeGreaterThan(minReplicas);
    // Beyond the 4 processes measured in docs/deploy/scaling.md, nobody knows what happens.
    expect(maxReplicas).toBeLessThanOrEqual(4);
  });

  it('waits minutes of low load before it removes a replica', () => {
    expect(autoscaler.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).toBeGreaterThanOrEqual(
      300,
    );
  });

  it('lets node drains evict fewer replicas at once than the autoscaler keeps, so one always serves', () => {
    expect(budget.apiVersion).toBe('policy/v1');
    expect(budget.spec?.minAvailable).toBeUndefined();
    expect(budget.spec?.maxUnavailable).toBeLessThan(autoscaler.spec?.minReplicas ?? 1);
  });

  it('gives a stopping pod time to leave the Service and to finish its changes before it is killed', () => {
    const { shutdownTimeoutMs, lockTimeoutMs } = shutdownTimesOf(env);
    const preStopSeconds = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    // Endpoints are removed while the pod still answers; SIGTERM only after that.
    expect(preStopSeconds).toBeGreaterThanOrEqual(3);
    // The grace period counts from the start of preStop.
    expect(pod?.terminationGracePeriodSeconds).toBeGreaterThan(
      preStopSeconds + shutdownTimeoutMs / 1000,
    );
    // A change still waiting for the lock at SIGTERM gets it or its 503 before the host gives up.
    expect(shutdownTimeoutMs).toBeGreaterThan(lockTimeoutMs);
  });
});

describe('metrics scraping (docs/metrics.md)', () => {
  it("annotates every pod for Prometheus with the container's port and /metrics", () => {
    const annotations = deployment.spec?.template.metadata?.annotations ?? {};
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(Number(annotations['prometheus.io/port'])).toBe(containerPort('http'));
    expect(annotations['prometheus.io/path']).toBe('/metrics');
  });
});
