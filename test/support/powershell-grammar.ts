import { createRequire } from 'node:module';
import { Language, Parser } from 'web-tree-sitter';
import type { Node, Tree } from 'web-tree-sitter';

/*
 * There is no PowerShell on the build machine, so tests read generated
 * scripts with a real PowerShell grammar (tree-sitter-powershell, run as
 * WebAssembly) instead of running them. The grammar is more lenient than
 * PowerShell in one way that matters to a generator: it takes a `try` with
 * neither `catch` nor `finally`, which PowerShell refuses to parse
 * (MissingCatchOrFinally). `powerShellProblems` reports that too.
 */

let parser: Parser | undefined;

/** Loads the grammar once per test file (call it from `beforeAll`). */
export async function loadPowerShellGrammar(): Promise<void> {
  if (parser) return;
  await Parser.init();
  const require = createRequire(import.meta.url);
  const powershell = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  const loaded = new Parser();
  loaded.setLanguage(powershell);
  parser = loaded;
}

export function parsePowerShell(script: string): Tree {
  if (!parser) throw new Error('loadPowerShellGrammar() first');
  const tree = parser.parse(script);
  if (!tree) throw new Error('the parser returned no tree');
  return tree;
}

/** The ERROR and MISSING nodes under `node`, entering only the subtrees that hold one (hasError covers both kinds). */
function* brokenNodes(node: Node): Generator<Node> {
  if (node.type === 'ERROR' || node.isMissing) yield node;
  for (const child of node.children) if (child.hasError || child.isMissing) yield* brokenNodes(child);
}

const where = (node: Node): string => `${node.startPosition.row + 1}:${node.startPosition.column + 1}: ${JSON.stringify(node.text.slice(0, 80))}`;

/** What PowerShell would refuse to parse in `tree`, each with where it is, so a failure says what broke; none for a script that parses. */
export function problemsIn(tree: Tree): string[] {
  const root = tree.rootNode;
  // walking a whole tree node by node is slow: a clean tree is answered at once and a broken one only where it breaks;
  // descendantsOfType searches inside the WebAssembly
  const broken = root.hasError ? [...brokenNodes(root)].map((node) => `${node.isMissing ? 'MISSING' : 'ERROR'} at ${where(node)}`) : [];
  const bareTries = root
    .descendantsOfType('try_statement')
    .filter((node) => !node.children.some((child) => child.type === 'catch_clauses' || child.type === 'finally_clause'))
    .map((node) => `try without catch or finally at ${where(node)}`);
  return [...broken, ...bareTries];
}

export function powerShellProblems(script: string): string[] {
  const tree = parsePowerShell(script);
  try {
    return problemsIn(tree);
  } finally {
    tree.delete();
  }
}
