// Workflow code must replay the same way every time, so a workflow file may import at run time
// only @temporalio/workflow and other workflow files; anything else (a client, the config, the
// database, node: modules) only as types, which vanish when compiled. Run by `npm run lint`.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

export interface Problem {
  file: string;
  line: number;
  message: string;
}

const ALLOWED_PACKAGES = new Set(["@temporalio/workflow"]);

/** The rule's findings for one file's source text. */
export function lintWorkflowSource(file: string, text: string, workflowsDir: string): Problem[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const problems: Problem[] = [];
  const report = (node: ts.Node, message: string) =>
    problems.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, message });
  const allowedAtRunTime = (specifier: string) => {
    if (ALLOWED_PACKAGES.has(specifier)) return true;
    if (!specifier.startsWith(".")) return false;
    const target = path.resolve(path.dirname(file), specifier);
    return path.dirname(target) === path.resolve(workflowsDir);
  };

  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const specifier = (node.moduleSpecifier as ts.StringLiteral).text;
      if (!typeOnly(node) && !allowedAtRunTime(specifier)) {
        report(
          node,
          `imports "${specifier}" at run time; workflow code may import only @temporalio/workflow and workflow files (other modules as types only)`,
        );
      }
    }
    if (ts.isCallExpression(node)) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) report(node, "a dynamic import() in workflow code");
      if (ts.isIdentifier(node.expression) && node.expression.text === "require") report(node, "require() in workflow code");
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

/** `import type …`, or `import { type A, type B }` with nothing else: erased when compiled. */
function typeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    return (
      node.isTypeOnly ||
      (!!node.exportClause && ts.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly))
    );
  }
  const clause = node.importClause;
  if (!clause) return false; // a side-effect import runs the module
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const bindings = clause.namedBindings;
  return (
    !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly)
  );
}

export function lintWorkflows(workflowsDir: string): Problem[] {
  return readdirSync(workflowsDir)
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) => {
      const file = path.join(workflowsDir, f);
      return lintWorkflowSource(file, readFileSync(file, "utf8"), workflowsDir);
    });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "workflows");
  const problems = lintWorkflows(dir);
  for (const p of problems) console.error(`${path.relative(process.cwd(), p.file)}:${p.line}: ${p.message}`);
  if (problems.length) process.exit(1);
  console.log(`workflows/: ${readdirSync(dir).filter((f) => f.endsWith(".ts")).length} files import only what replays`);
}
