import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter, redirect } from '@tanstack/react-router';
import type { ConsoleConfig } from '../auth/config.js';
import { AuditPage } from '../audit/AuditPage.js';
import { auditFiltersFrom } from '../audit/filters.js';
import { RunPage } from '../runs/RunPage.js';
import { EditSchedulePage, NewSchedulePage } from '../schedules/ScheduleEditPage.js';
import { SchedulePage } from '../schedules/SchedulePage.js';
import { SchedulesPage } from '../schedules/SchedulesPage.js';
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

const schedulesRoute = createRoute({ getParentRoute: () => rootRoute, path: '/schedules', component: SchedulesPage });

const newScheduleRoute = createRoute({ getParentRoute: () => rootRoute, path: '/schedules/new', component: NewSchedulePage });

const scheduleRoute = createRoute({ getParentRoute: () => rootRoute, path: '/schedules/$scheduleId', component: SchedulePage });

const editScheduleRoute = createRoute({ getParentRoute: () => rootRoute, path: '/schedules/$scheduleId/edit', component: EditSchedulePage });

const runRoute = createRoute({ getParentRoute: () => rootRoute, path: '/runs/$runId', component: RunPage });

const auditRoute = createRoute({ getParentRoute: () => rootRoute, path: '/audit', validateSearch: auditFiltersFrom, component: AuditPage });

const routeTree = rootRoute.addChildren([indexRoute, sessionsRoute, sessionRoute, schedulesRoute, newScheduleRoute, scheduleRoute, editScheduleRoute, runRoute, auditRoute]);

export const createConsoleRouter = (context: RouterContext) => createRouter({ routeTree, context, defaultPreload: false, scrollRestoration: true });

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createConsoleRouter>;
  }
}
