import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, Navigate, Outlet } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { ApiError } from './api';
import { SessionProvider, useSession } from './session';
import { AppShell } from './screens/app-shell';
import { ForgotPasswordScreen, SignInScreen, SignUpScreen } from './screens/auth-screens';
import { BotsScreen } from './screens/bots-screen';
import { BotLayout } from './screens/bot-layout';
import { KnowledgeScreen } from './screens/knowledge-screen';
import { TryItScreen } from './screens/try-it-screen';
import { ChannelsScreen } from './screens/channels-screen';
import { InboxScreen, TranscriptPane } from './screens/inbox-screen';
import { NotFoundScreen } from './screens/not-found-screen';
import './styles.css';

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A refused request (404, 403, …) will be refused again; only the network or the server's hiccups are retried.
      retry: (count, err) => count < 2 && !(err instanceof ApiError && err.status < 500),
      refetchOnWindowFocus: false,
      staleTime: 5_000,
    },
  },
});

/** Screens for signed-in creators; the others are sent to sign in. */
function RequireSession() {
  const { state } = useSession();
  if (state.status === 'loading')
    return (
      <p className="boot" role="status">
        Loading…
      </p>
    );
  if (state.status === 'signed-out') return <Navigate to="/signin" replace />;
  return <AppShell />;
}

/** Sign-in and sign-up; a signed-in creator goes straight to the bots. */
function PublicOnly() {
  const { state } = useSession();
  if (state.status === 'loading')
    return (
      <p className="boot" role="status">
        Loading…
      </p>
    );
  if (state.status === 'signed-in') return <Navigate to="/" replace />;
  return <Outlet />;
}

const router = createBrowserRouter(
  [
    {
      element: <PublicOnly />,
      children: [
        { path: '/signin', element: <SignInScreen /> },
        { path: '/signup', element: <SignUpScreen /> },
        { path: '/forgot-password', element: <ForgotPasswordScreen /> },
      ],
    },
    {
      element: <RequireSession />,
      children: [
        { path: '/', element: <BotsScreen /> },
        {
          path: '/bots/:botId',
          element: <BotLayout />,
          children: [
            { index: true, element: <Navigate to="knowledge" replace /> },
            { path: 'knowledge', element: <KnowledgeScreen /> },
            { path: 'try', element: <TryItScreen /> },
            { path: 'channels', element: <ChannelsScreen /> },
            { path: 'inbox', element: <InboxScreen />, children: [{ path: ':conversationId', element: <TranscriptPane /> }] },
          ],
        },
        { path: '*', element: <NotFoundScreen /> },
      ],
    },
  ],
  { basename: '/app' },
);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
