import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError } from './api/client.js';
import { createConsoleRouter } from './app/router.js';
import { loadConsoleConfig } from './auth/config.js';
import { completeSignIn } from './auth/sign-in.js';
import './styles.css';

const config = await loadConsoleConfig();
await completeSignIn(config);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // a refusal (4xx) will not change by asking again; a dropped connection might
      retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
      refetchOnWindowFocus: true,
    },
  },
});

const router = createConsoleRouter({ queryClient, config });
const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
