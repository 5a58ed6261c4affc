import { readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  PutScalingPolicyCommandInput,
  RegisterScalableTargetCommandInput,
} from '@aws-sdk/client-application-auto-scaling';
import type { CreateDBInstanceCommandInput } from '@aws-sdk/client-rds';
import type {
  CreateServiceCommandInput,
  RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import type {
  CreateTargetGroupCommandInput,
  ModifyTargetGroupAttributesCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { projectRoot } from '../support/host-process';
import { execForm, imageTags, readStages, stageNamed, stepsOf } from './support/dockerfile';
import { shutdownTimesOf } from './support/shutdown';
import { misspell, typeErrors } from './support/typecheck';
import { workerProcessesFor } from './support/workers';

const read = <T>(file: string): T =>
  JSON.parse(readFileSync(path.join(projectRoot, 'deploy/ecs', file), 'utf8')) as T;
const cpuOf = (definition: RegisterTaskDefinitionCommandInput) => Number(definition.cpu) / 1024;

/**
 * Each file is the input of one `aws … --cli-input-json` command, whose members are those of
 * the API's request shape: the AWS SDK's request types are generated from the same models.
 */
const manifests = [
  {
    file: 'task-definition.json',
    type: "import('@aws-sdk/client-ecs').RegisterTaskDefinitionCommandInput",
  },
  { file: 'service.json', type: "import('@aws-sdk/client-ecs').CreateServiceCommandInput" },
  {
    file: 'target-group.json',
    type: "import('@aws-sdk/client-elastic-load-balancing-v2').CreateTargetGroupCommandInput",
  },
  {
    file: 'target-group-attributes.json',
    type: "import('@aws-sdk/client-elastic-load-balancing-v2').ModifyTargetGroupAttributesCommandInput",
  },
  {
    file: 'scalable-target.json',
    type: "import('@aws-sdk/client-application-auto-scaling').RegisterScalableTargetCommandInput",
  },
  {
    file: 'scaling-policy.json',
    type: "import('@aws-sdk/client-application-auto-scaling').PutScalingPolicyCommandInput",
  },
  // The database variant (deploy/ecs/postgres/): the same service with the URL from a secret.
  {
    file: 'postgres/task-definition.json',
    type: "import('@aws-sdk/client-ecs').RegisterTaskDefinitionCommandInput",
  },
  {
    file: 'postgres/scalable-target.json',
    type: "import('@aws-sdk/client-application-auto-scaling').RegisterScalableTargetCommandInput",
  },
  {
    file: 'postgres/db-instance.json',
    type: "import('@aws-sdk/client-rds').CreateDBInstanceCommandInput",
  },
].map((manifest) => ({ ...manifest, value: read<unknown>(manifest.file) }));

const taskDefinition = read<RegisterTaskDefinitionCommandInput>('task-definition.json');
const service = read<CreateServiceCommandInput>('service.json');
const targetGroup = read<CreateTargetGroupCommandInput>('target-group.json');
const targetGroupAttributes = read<ModifyTargetGroupAttributesCommandInput>(
  'target-group-attributes.json',
);
const scalableTarget = read<RegisterScalableTargetCommandInput>('scalable-target.json');
const scalingPolicy = read<PutScalingPolicyCommandInput>('scaling-policy.json');
const [container] = taskDefinition.containerDefinitions ?? [];
const env = Object.fromEntries(
  (container.environment ?? []).map(({ name, value }) => [name ?? '', value ?? '']),
);
const [port] = container.portMappings ?? [];

const misspellings = [
  { file: 'task-definition.json', from: 'healthCheck', to: 'healthcheck' },
  { file: 'task-definition.json', from: 'efsVolumeConfiguration', to: 'efsVolumeConfig' },
  { file: 'service.json', from: 'loadBalancers', to: 'loadBalancer' },
  { file: 'target-group.json', from: 'HealthCheckPath', to: 'HealthcheckPath' },
  { file: 'scalable-target.json', from: 'MaxCapacity', to: 'MaximumCapacity' },
  { file: 'scaling-policy.json', from: 'ScaleInCooldown', to: 'ScaleInCoolDown' },
  { file: 'postgres/task-definition.json', from: 'valueFrom', to: 'valuefrom' },
  { file: 'postgres/db-instance.json', from: 'MultiAZ', to: 'MultiAz' },
];

// One compiler run for the manifests and their misspelt copies: it takes seconds.
let errors: string[][];
beforeAll(() => {
  const manifestOf = (file: string) => {
    const found = manifests.find((manifest) => manifest.file === file);
    if (!found) throw new Error(`no manifest ${file}`);
    return found;
  };
  errors = typeErrors([
    ...manifests,
    ...misspellings.map(({ file, from, to }) => {
      const { value, type } = manifestOf(file);
      return { value: misspell(value, from, to), type };
    }),
  ]);
});

describe('deploy/ecs/', () => {
  it('holds inputs that match the request shapes of the AWS commands they are for', () => {
    const problems = manifests.map(({ file }, index) => ({ file, errors: errors[index] }));
    expect(problems.filter((problem) => problem.errors.length > 0)).toEqual([]);
  });

  it.each(misspellings.map((misspelling, index) => ({ ...misspelling, index })))(
    'fails that check for $file with "$to" for "$from"',
    ({ to, index }) => {
      const found = errors[manifests.length + index];
      expect(found.length).toBeGreaterThan(0);
      for (const error of found) expect(error).toContain(`'"${to}"' does not exist`);
    },
  );

  it('runs one essential container on Fargate, on a platform version that mounts EFS (1.4.0 and later)', () => {
    expect(taskDefinition.requiresCompatibilities).toEqual(['FARGATE']);
    expect(taskDefinition.networkMode).toBe('awsvpc');
    expect(taskDefinition.containerDefinitions).toHaveLength(1);
    expect(container.essential).toBe(true);
    expect(service.launchType).toBe('FARGATE');
    expect(service.platformVersion).toBe('LATEST');
    expect(service.taskDefinition).toBe(taskDefinition.family);
  });

  it('keeps the counter on EFS, encrypted in transit, through an access point, where the image keeps it', () => {
    const volume = taskDefinition.volumes?.find((candidate) => candidate.efsVolumeConfiguration);
    expect(volume?.efsVolumeConfiguration).toMatchObject({
      fileSystemId: expect.stringMatching(/^fs-/),
      transitEncryption: 'ENABLED',
      authorizationConfig: { accessPointId: expect.stringMatching(/^fsap-/), iam: 'ENABLED' },
    });
    // With an access point, the access point chooses the directory.
    expect(volume?.efsVolumeConfiguration?.rootDirectory ?? '/').toBe('/');
    const mount = container.mountPoints?.find(
      (candidate) => candidate.sourceVolume === volume?.name,
    );
    expect(mount?.readOnly).not.toBe(true);
    expect(mount?.containerPath).toBe(env.COUNTER_DATA_DIR);
    expect(mount?.containerPath).toBe('/app/local_dir');
  });

  it("checks the container's health with the image's own probe of GET /health", () => {
    const [healthcheck] = stepsOf(stageNamed(readStages(), 'standalone'), 'HEALTHCHECK');
    expect(container.healthCheck?.command).toEqual(['CMD', ...execForm(healthcheck)]);
    expect(readFileSync(path.join(projectRoot, 'scripts/healthcheck.mjs'), 'utf8')).toContain(
      '/health',
    );
  });

  it('runs an image built from one of the Dockerfile targets', () => {
    expect(imageTags()).toContain(container.image?.split('/').at(-1));
  });

  it('puts the tasks behind an ALB target group that checks GET /health on the container port', () => {
    expect(port.containerPort).toBe(8000);
    expect(service.loadBalancers).toEqual([
      {
        targetGroupArn: targetGroupAttributes.TargetGroupArn,
        containerName: container.name,
        containerPort: port.containerPort,
      },
    ]);
    expect(targetGroup).toMatchObject({
      // awsvpc tasks register by IP address.
      TargetType: 'ip',
      Port: port.containerPort,
      HealthCheckPath: '/health',
      HealthCheckPort: 'traffic-port',
      Matcher: { HttpCode: '200' },
    });
    expect(targetGroupAttributes.TargetGroupArn).toContain(`:targetgroup/${targetGroup.Name}/`);
  });

  it('scales the service on CPU between at least two tasks and a few more', () => {
    const resourceId = `service/${service.cluster}/${service.serviceName}`;
    for (const input of [scalableTarget, scalingPolicy]) {
      expect(input).toMatchObject({
        ServiceNamespace: 'ecs',
        ResourceId: resourceId,
        ScalableDimension: 'ecs:service:DesiredCount',
      });
    }
    const { MinCapacity = 0, MaxCapacity = 0 } = scalableTarget;
    expect(MinCapacity).toBeGreaterThanOrEqual(2);
    expect(MaxCapacity).toBeGreaterThan(MinCapacity);
    // Beyond the 4 processes measured in docs/deploy/scaling.md, nobody knows what happens.
    expect(MaxCapacity).toBeLessThanOrEqual(4);
    expect(service.desiredCount).toBeGreaterThanOrEqual(MinCapacity);
    expect(service.desiredCount).toBeLessThanOrEqual(MaxCapacity);
    expect(scalingPolicy.PolicyType).toBe('TargetTrackingScaling');
    const tracking = scalingPolicy.TargetTrackingScalingPolicyConfiguration;
    expect(tracking?.PredefinedMetricSpecification?.PredefinedMetricType).toBe(
      'ECSServiceAverageCPUUtilization',
    );
    expect(tracking?.ScaleInCooldown).toBeGreaterThanOrEqual(300);
  });

  it('runs one app process per vCPU of the task (FUNCTIONS_WORKER_PROCESS_COUNT)', () => {
    expect(Number(env.FUNCTIONS_WORKER_PROCESS_COUNT)).toBe(
      workerProcessesFor(cpuOf(taskDefinition)),
    );
  });

  it('gives a stopping task time to leave the target group and to finish its changes before it is killed', () => {
    const { shutdownTimeoutMs, lockTimeoutMs } = shutdownTimesOf(env);
    // ECS deregisters a stopping task and waits out the delay before it sends SIGTERM.
    const delay = targetGroupAttributes.Attributes?.find(
      (attribute) => attribute.Key === 'deregistration_delay.timeout_seconds',
    );
    expect(Number(delay?.Value)).toBeGreaterThanOrEqual(5);
    // After SIGTERM, stopTimeout (Fargate allows up to 120 s) before SIGKILL.
    expect(container.stopTimeout).toBeGreaterThan(shutdownTimeoutMs / 1000);
    expect(container.stopTimeout).toBeLessThanOrEqual(120);
    expect(shutdownTimeoutMs).toBeGreaterThan(lockTimeoutMs);
  });
});

describe('deploy/ecs/postgres/ (the counters in PostgreSQL)', () => {
  const databaseTask = read<RegisterTaskDefinitionCommandInput>('postgres/task-definition.json');
  const databaseTarget = read<RegisterScalableTargetCommandInput>('postgres/scalable-target.json');
  const instance = read<CreateDBInstanceCommandInput>('postgres/db-instance.json');
  const [databaseContainer] = databaseTask.containerDefinitions ?? [];
  const url = databaseContainer.secrets?.find(({ name }) => name === 'COUNTER_DATABASE_URL');

  it('reads COUNTER_DATABASE_URL from Secrets Manager, never from the plain environment', () => {
    expect(url?.valueFrom).toMatch(/^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/);
    expect(databaseContainer.environment?.map(({ name }) => name)).not.toContain(
      'COUNTER_DATABASE_URL',
    );
  });

  it('is the task definition of the file store plus that secret, so the two never drift apart', () => {
    const withoutUrl = structuredClone(databaseTask);
    const [only] = withoutUrl.containerDefinitions ?? [];
    only.secrets = only.secrets?.filter(({ name }) => name !== 'COUNTER_DATABASE_URL');
    expect(withoutUrl).toEqual(taskDefinition);
  });

  it('lets the service go past the file store\'s 4 tasks, to 10 (docs/deploy/scaling.md, "Database curve")', () => {
    expect(databaseTarget).toEqual({ ...scalableTarget, MaxCapacity: 10 });
  });

  it('creates a Multi-AZ PostgreSQL instance: each COMMIT on a synchronous standby in another zone', () => {
    expect(instance).toMatchObject({
      Engine: 'postgres',
      MultiAZ: true,
      StorageEncrypted: true,
      PubliclyAccessible: false,
      // The administrator's password stays in Secrets Manager, managed and rotated by RDS.
      ManageMasterUserPassword: true,
    });
    expect(instance.MasterUserPassword).toBeUndefined();
    expect(Number(instance.EngineVersion?.split('.')[0])).toBeGreaterThanOrEqual(13);
    // Reachable only from inside the VPC, through its own security group.
    expect(instance.VpcSecurityGroupIds).toHaveLength(1);
    expect(service.networkConfiguration?.awsvpcConfiguration?.securityGroups).not.toContain(
      instance.VpcSecurityGroupIds?.[0],
    );
  });
});

describe('metrics scraping (docs/metrics.md)', () => {
  it.each(['task-definition.json', 'postgres/task-definition.json'])(
    "labels the container of %s for the CloudWatch agent's Prometheus discovery",
    (file) => {
      const [container] = read<RegisterTaskDefinitionCommandInput>(file).containerDefinitions ?? [];
      const port = String(container.portMappings?.[0]?.containerPort);
      expect(container.dockerLabels).toEqual({
        ECS_PROMETHEUS_EXPORTER_PORT: port,
        ECS_PROMETHEUS_METRICS_PATH: '/metrics',
      });
    },
  );
});
