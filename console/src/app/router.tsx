import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter, redirect } from '@tanstack/react-router';
import type { ConsoleConfig } from '../auth/config.js';
import { AuditPage } from '../audit/AuditPage.js';
import { auditFiltersFrom } from '../audit/filters.js';
import { BrandingPage } from '../branding/BrandingPage.js';
import { brandingSearchFrom } from '../branding/fields.js';
import { DeploymentPage, DeploymentsPage, EditDeploymentPage, NewDeploymentPage } from '../catalog/DeploymentPages.js';
import { EditSoftwarePage, NewSoftwarePage, SoftwareListPage, SoftwarePage } from '../catalog/SoftwarePages.js';
import { EditTaskPage, NewTaskPage, TaskListPage, TaskPage } from '../catalog/TaskPages.js';
import { ComputerPage } from '../computers/ComputerPage.js';
import { ComputersPage } from '../computers/ComputersPage.js';
import { computerSearchFrom, computersSearchFrom } from '../computers/search.js';
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

const computersRoute = createRoute({ getParentRoute: () => rootRoute, path: '/computers', validateSearch: computersSearchFrom, component: ComputersPage });

const computerRoute = createRoute({ getParentRoute: () => rootRoute, path: '/computers/$computerId', validateSearch: computerSearchFrom, component: ComputerPage });

const schedulesRoute = createRoute({ getParentRoute: () => rootRoute, path: '/schedules', component: SchedulesPage });

const newScheduleRoute = createRoute({ getParentRoute: () => rootRoute, path: '/schedules/new', component: NewSchedulePage });

const scheduleRoute = createRoute({ getParentRoute: () => rootRoute, path: '/schedules/$scheduleId', component: SchedulePage });

const editScheduleRoute = createRoute({ getParentRoute: () => rootRoute, path: '/schedules/$scheduleId/edit', component: EditSchedulePage });

const deploymentsRoute = createRoute({ getParentRoute: () => rootRoute, path: '/deployments', component: DeploymentsPage });

const newDeploymentRoute = createRoute({ getParentRoute: () => rootRoute, path: '/deployments/new', component: NewDeploymentPage });

const deploymentRoute = createRoute({ getParentRoute: () => rootRoute, path: '/deployments/$deploymentId', component: DeploymentPage });

const editDeploymentRoute = createRoute({ getParentRoute: () => rootRoute, path: '/deployments/$deploymentId/edit', component: EditDeploymentPage });

const softwareListRoute = createRoute({ getParentRoute: () => rootRoute, path: '/software', component: SoftwareListPage });

const newSoftwareRoute = createRoute({ getParentRoute: () => rootRoute, path: '/software/new', component: NewSoftwarePage });

const softwareRoute = createRoute({ getParentRoute: () => rootRoute, path: '/software/$softwareId', component: SoftwarePage });

const editSoftwareRoute = createRoute({ getParentRoute: () => rootRoute, path: '/software/$softwareId/edit', component: EditSoftwarePage });

const tasksRoute = createRoute({ getParentRoute: () => rootRoute, path: '/tasks', component: TaskListPage });

const newTaskRoute = createRoute({ getParentRoute: () => rootRoute, path: '/tasks/new', component: NewTaskPage });

const taskRoute = createRoute({ getParentRoute: () => rootRoute, path: '/tasks/$taskId', component: TaskPage });

const editTaskRoute = createRoute({ getParentRoute: () => rootRoute, path: '/tasks/$taskId/edit', component: EditTaskPage });

const runRoute = createRoute({ getParentRoute: () => rootRoute, path: '/runs/$runId', component: RunPage });

const auditRoute = createRoute({ getParentRoute: () => rootRoute, path: '/audit', validateSearch: auditFiltersFrom, component: AuditPage });

const brandingRoute = createRoute({ getParentRoute: () => rootRoute, path: '/branding', validateSearch: brandingSearchFrom, component: BrandingPage });

const routeTree = rootRoute.addChildren([indexRoute, sessionsRoute, sessionRoute, computersRoute, computerRoute, schedulesRoute, newScheduleRoute, scheduleRoute, editScheduleRoute, deploymentsRoute, newDeploymentRoute, deploymentRoute, editDeploymentRoute, softwareListRoute, newSoftwareRoute, softwareRoute, editSoftwareRoute, tasksRoute, newTaskRoute, taskRoute, editTaskRoute, runRoute, auditRoute, brandingRoute]);

export const createConsoleRouter = (context: RouterContext) => createRouter({ routeTree, context, defaultPreload: false, scrollRestoration: true });

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createConsoleRouter>;
  }
}
