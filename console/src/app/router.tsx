import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter, redirect } from '@tanstack/react-router';
import type { ConsoleConfig } from '../auth/config.js';
import { SessionDetailPage } from '../sessions/SessionDetailPage.js';
import { SessionsPage } from '../sessions/SessionsPage.js';
import { sessionFiltersFrom } from '../sessions/filters.js';
import { NotFoundPage, Root } from './Shell.js';

/** The console's pages, declared in code (TanStack Router): typed paths, params and search. */

export interface RouterContext {
  readonly queryClient: QueryClient;
  readonly config: ConsoleConfig;
}

const rootRoute = createRootRouteWithContext<RouterContext>()({ component: Root, notFoundComponent: NotFoundPage });

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  beforeLoad: () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- TanStack Router's redirect is thrown by design
    throw redirect({ to: '/sessions' });
  },
});

const sessionsRoute = createRoute({ getParentRoute: () => rootRoute, path: '/sessions', validateSearch: sessionFiltersFrom, component: SessionsPage });

const sessionRoute = createRoute({ getParentRoute: () => rootRoute, path: '/sessions/$sessionId', component: SessionDetailPage });

const routeTree = rootRoute.addChildren([indexRoute, sessionsRoute, sessionRoute]);

export const createConsoleRouter = (context: RouterContext) => createRouter({ routeTree, context, defaultPreload: false, scrollRestoration: true });

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createConsoleRouter>;
  }
}
