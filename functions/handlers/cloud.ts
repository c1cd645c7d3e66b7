import { createCloudDependencies } from '../adapters/cloud-dependencies.js';
import { configFromEnvironment } from '../adapters/config.js';
import type { Dependencies } from '../core/use-cases/dependencies.js';

let dependencies: Dependencies | undefined;

/** Lambda's dependencies: configuration read once, clients built once, on the first invocation of the container. */
export function cloudDependencies(): Dependencies {
  dependencies ??= createCloudDependencies(configFromEnvironment(process.env));
  return dependencies;
}
