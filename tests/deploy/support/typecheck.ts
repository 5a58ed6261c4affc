import path from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../../support/host-process';

/** A manifest and the type it must have, e.g. `import('kubernetes-types/apps/v1').Deployment`. */
export interface TypeCheck {
  value: unknown;
  type: string;
}

// Inside the project, so that the compiler resolves packages from its node_modules.
const checkFile = path.join(projectRoot, 'tests', 'deploy', '__manifests__.ts');

/**
 * Checks each value against its type as the TypeScript compiler checks an object literal
 * assigned to a typed constant: a property the type does not declare (a misspelt field), a
 * value of the wrong type or enum, and a missing required property are all errors. The
 * types are the platforms' own, generated from their published API models (Kubernetes'
 * OpenAPI spec, AWS' Smithy models), so this is a schema check without a schema download.
 *
 * Returns the errors of each value, in the order given; an empty list means it type-checks.
 */
export function typeErrors(checks: TypeCheck[]): string[][] {
  const declarations = checks.map(
    ({ value, type }, index) =>
      `export const manifest${index}: ${type} = ${JSON.stringify(value, null, 2)};\n`,
  );
  const source = declarations.join('');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    path.resolve(fileName) === checkFile
      ? ts.createSourceFile(fileName, source, languageVersion, true)
      : getSourceFile.call(host, fileName, languageVersion, ...rest);
  host.fileExists = (fileName) =>
    path.resolve(fileName) === checkFile || fileExists.call(host, fileName);
  host.readFile = (fileName) =>
    path.resolve(fileName) === checkFile ? source : readFile.call(host, fileName);

  const program = ts.createProgram([checkFile], options, host);
  const file = program.getSourceFile(checkFile);
  if (!file) throw new Error('the compiler did not read the generated check file');
  const diagnostics = ts.getPreEmitDiagnostics(program, file);

  // Which declaration each diagnostic falls in, by the line it starts on.
  const firstLines: number[] = [];
  let line = 0;
  for (const declaration of declarations) {
    firstLines.push(line);
    line += declaration.split('\n').length - 1;
  }
  const sourceLines = source.split('\n');
  const errors = checks.map((): string[] => []);
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.start === undefined) throw new Error(message);
    const at = file.getLineAndCharacterOfPosition(diagnostic.start).line;
    const index = firstLines.filter((first) => first <= at).length - 1;
    errors[index].push(`${message}\n  at: ${sourceLines[at].trim()}`);
  }
  return errors;
}

/** A copy of `value` with every property named `from` renamed to `to`: a misspelt manifest. */
export function misspell<T>(value: T, from: string, to: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(`"${from}":`, `"${to}":`)) as T;
}
