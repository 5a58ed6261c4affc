import { readFileSync } from 'node:fs';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { DockerfileParser, Env, ModifiableInstruction, type Instruction } from 'dockerfile-ast';
import { projectRoot } from '../../support/host-process';

export const dockerfilePath = path.join(projectRoot, 'Dockerfile');

/** One instruction of a stage, in the shape the tests read it. */
export interface Step {
  keyword: string;
  /** The arguments after the flags, e.g. COPY's sources and destination. */
  args: string[];
  flags: Record<string, string>;
  /** The arguments as one line: RUN's shell command, HEALTHCHECK's `CMD [...]`. */
  content: string;
  /** ENV's variables. */
  env: Record<string, string>;
  /** 1-based, for messages. */
  line: number;
}

export interface Stage {
  name: string;
  /** The FROM image, e.g. `node:20-bullseye`. */
  image: string;
  steps: Step[];
}

function toStep(instruction: Instruction): Step {
  const flags: Record<string, string> = {};
  if (instruction instanceof ModifiableInstruction) {
    for (const flag of instruction.getFlags()) flags[flag.getName()] = flag.getValue() ?? '';
  }
  const env: Record<string, string> = {};
  if (instruction instanceof Env) {
    for (const property of instruction.getProperties())
      env[property.getName()] = property.getValue() ?? '';
  }
  return {
    keyword: instruction.getKeyword(),
    args: instruction.getArguments().map((argument) => argument.getValue()),
    flags,
    content: instruction.getArgumentsContent() ?? '',
    env,
    line: instruction.getRange().start.line + 1,
  };
}

/** The image names the Dockerfile's targets build (`rusty-counter:<target>`), as the docs tag them. */
export function imageTags(): string[] {
  return readStages()
    .map((stage) => stage.name)
    .filter((name) => name !== 'build')
    .map((target) => `rusty-counter:${target}`);
}

/** The Dockerfile's stages in order, each with the instructions that follow its FROM. */
export function readStages(text = readFileSync(dockerfilePath, 'utf8')): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const step = toStep(instruction);
    if (step.keyword === 'FROM') {
      const [image, as, name] = step.args;
      if (as?.toUpperCase() !== 'AS' || !name)
        throw new Error(`line ${step.line}: every stage needs a name (FROM image AS name)`);
      stages.push({ name, image, steps: [] });
    } else {
      const current = stages.at(-1);
      if (!current) throw new Error(`line ${step.line}: ${step.keyword} before the first FROM`);
      current.steps.push(step);
    }
  }
  return stages;
}

export function stageNamed(stages: Stage[], name: string): Stage {
  const found = stages.find((stage) => stage.name === name);
  if (!found) throw new Error(`the Dockerfile has no stage "${name}"`);
  return found;
}

export const stepsOf = (stage: Stage, keyword: string): Step[] =>
  stage.steps.filter((step) => step.keyword === keyword);

/** The environment a stage's ENV instructions set (values as Docker would store them). */
export const envOf = (stage: Stage): Record<string, string> =>
  Object.assign({}, ...stepsOf(stage, 'ENV').map((step) => step.env));

/** CMD or HEALTHCHECK CMD in exec form, e.g. `["node", "host/dist/main.js"]`. */
export function execForm(step: Step): string[] {
  const json = step.keyword === 'HEALTHCHECK' ? step.content.replace(/^CMD\s+/, '') : step.content;
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`line ${step.line}: ${step.keyword} is not in exec form: ${step.content}`);
  }
  return parsed;
}

/** Whether `relativePath` (posix, from the project root) is sent to `docker build` as context. */
export function buildContextIncludes(): (relativePath: string) => boolean {
  const rules = dockerignore().add(readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8'));
  return (relativePath) => !rules.ignores(relativePath);
}
