import type { FieldProblem } from '../errors.js';
import type { MaintenanceTask, ParameterValue } from '../model/catalog.js';

/**
 * Checks deployment parameter values against the task's typed parameters:
 * unknown names, wrong types, enum values, number bounds, string patterns,
 * and required parameters that have neither a value nor a default.
 */
export function validateParameters(task: MaintenanceTask, values: Readonly<Record<string, ParameterValue>>, fieldPrefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const field = (name: string) => `${fieldPrefix}.${name}`;
  for (const name of Object.keys(values)) {
    if (!task.parameters.some((p) => p.name === name)) {
      problems.push({ field: field(name), problem: `task ${task.id} has no parameter ${name} (it has: ${task.parameters.map((p) => p.name).join(', ') || 'none'})` });
    }
  }
  for (const parameter of task.parameters) {
    const value = values[parameter.name];
    if (value === undefined) {
      const hasDefault = 'default' in parameter && parameter.default !== undefined;
      if (parameter.required && !hasDefault) problems.push({ field: field(parameter.name), problem: 'is required' });
      continue;
    }
    switch (parameter.type) {
      case 'string':
      case 'secret':
        if (typeof value !== 'string') problems.push({ field: field(parameter.name), problem: `must be text, not ${typeof value}` });
        else if (parameter.type === 'string' && parameter.pattern !== undefined && !new RegExp(parameter.pattern, 'u').test(value)) {
          problems.push({ field: field(parameter.name), problem: `must match ${parameter.pattern}` });
        }
        break;
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) problems.push({ field: field(parameter.name), problem: `must be a number, not ${typeof value}` });
        else if (parameter.min !== undefined && value < parameter.min) problems.push({ field: field(parameter.name), problem: `must be at least ${parameter.min}` });
        else if (parameter.max !== undefined && value > parameter.max) problems.push({ field: field(parameter.name), problem: `must be at most ${parameter.max}` });
        break;
      case 'boolean':
        if (typeof value !== 'boolean') problems.push({ field: field(parameter.name), problem: `must be true or false, not ${typeof value}` });
        break;
      case 'enum':
        if (typeof value !== 'string' || !parameter.values.includes(value)) {
          problems.push({ field: field(parameter.name), problem: `must be one of ${parameter.values.join(', ')}` });
        }
        break;
    }
  }
  return problems;
}
