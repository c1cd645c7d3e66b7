import type { FieldProblem } from '../errors.js';
import type { MaintenanceTask, ParameterValue } from '../model/catalog.js';
import { excerpt } from '../validation.js';
import { compilePattern, type TextPattern } from './pattern.js';

/**
 * A parameter's value from a deployment's values, own properties only: a
 * parameter named `constructor` or `toString` must not find `Object`'s.
 */
export function parameterValue(values: Readonly<Record<string, ParameterValue>>, name: string): ParameterValue | undefined {
  return Object.hasOwn(values, name) ? values[name] : undefined;
}

/** Tasks repeat the same few patterns across every deployment; compiling each once is enough. */
const compiled = new Map<string, TextPattern | undefined>();
const COMPILED_CACHE_LIMIT = 1_000;

function patternOf(source: string): TextPattern | undefined {
  // Stryker disable next-line ConditionalExpression: a cache; compiling again gives the same pattern
  if (compiled.has(source)) return compiled.get(source);
  const result = compilePattern(source);
  const pattern = result.ok ? result.pattern : undefined;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: bounds the cache's memory; when it is emptied changes no answer
  if (compiled.size >= COMPILED_CACHE_LIMIT) compiled.clear();
  compiled.set(source, pattern);
  return pattern;
}

/**
 * Checks deployment parameter values against the task's typed parameters:
 * unknown names, wrong types, enum values, number bounds, string patterns,
 * and required parameters that have neither a value nor a default.
 */
export function validateParameters(task: MaintenanceTask, values: Readonly<Record<string, ParameterValue>>, fieldPrefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const field = (name: string) => `${fieldPrefix}.${name}`;
  const known = new Set(task.parameters.map((p) => p.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name)) {
      problems.push({ field: field(name), problem: `task ${task.id} has no parameter ${name} (it has: ${excerpt(task.parameters.map((p) => p.name).join(', '), 200) || 'none'})` });
    }
  }
  for (const parameter of task.parameters) {
    const value = parameterValue(values, parameter.name);
    if (value === undefined) {
      const hasDefault = 'default' in parameter && parameter.default !== undefined;
      if (parameter.required && !hasDefault) problems.push({ field: field(parameter.name), problem: 'is required' });
      continue;
    }
    switch (parameter.type) {
      case 'string':
      case 'secret':
        if (typeof value !== 'string') problems.push({ field: field(parameter.name), problem: `must be text, not ${typeof value}` });
        else if (parameter.type === 'string' && parameter.pattern !== undefined) {
          const pattern = patternOf(parameter.pattern);
          // a stored pattern the matcher cannot take predates it: say so rather than let the value through unchecked
          const matches = pattern?.test(value);
          if (pattern === undefined) problems.push({ field: field(parameter.name), problem: `cannot be checked: task ${task.id} has a pattern that is no longer accepted; save the task again` });
          else if (matches === undefined) problems.push({ field: field(parameter.name), problem: `is too long to check against ${excerpt(parameter.pattern)}; shorten it or simplify the pattern` });
          else if (!matches) problems.push({ field: field(parameter.name), problem: `must match ${parameter.pattern}` });
        }
        break;
      case 'number':
        // Stryker disable next-line ConditionalExpression: Number.isFinite is false for anything that is not a number, so the type test only names the intent
        if (typeof value !== 'number' || !Number.isFinite(value)) problems.push({ field: field(parameter.name), problem: `must be a number, not ${typeof value}` });
        else if (parameter.min !== undefined && value < parameter.min) problems.push({ field: field(parameter.name), problem: `must be at least ${parameter.min}` });
        else if (parameter.max !== undefined && value > parameter.max) problems.push({ field: field(parameter.name), problem: `must be at most ${parameter.max}` });
        break;
      case 'boolean':
        if (typeof value !== 'boolean') problems.push({ field: field(parameter.name), problem: `must be true or false, not ${typeof value}` });
        break;
      case 'enum':
        // Stryker disable next-line ConditionalExpression: the listed values are all text, so a value that is not text is never among them
        if (typeof value !== 'string' || !parameter.values.includes(value)) {
          problems.push({ field: field(parameter.name), problem: `must be one of ${excerpt(parameter.values.join(', '), 200)}` });
        }
        break;
    }
  }
  return problems;
}
