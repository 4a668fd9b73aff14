import { lazy, StrictMode, Suspense, type ComponentType } from 'react';
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
import './screens.css';

/** A screen loaded on first visit, so the first load carries only the screens every creator opens. */
function later<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) {
  const Screen = lazy(async () => ({ default: (await load())[name] as ComponentType }));
  return (
    <Suspense
      fallback={
        <p className="muted" role="status">
          Loading…
        </p>
      }
    >
      <Screen />
    </Suspense>
  );
}


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
    // The emailed links work signed in or not.
    { path: '/account/verify-email', element: later(() => import('./screens/account-screens'), 'VerifyEmailScreen') },
    { path: '/account/reset-password', element: later(() => import('./screens/account-screens'), 'ResetPasswordScreen') },
    {
      element: <RequireSession />,
      children: [
        { path: '/', element: <BotsScreen /> },
        { path: '/api-keys', element: later(() => import('./screens/api-keys-screen'), 'ApiKeysScreen') },
        { path: '/billing', element: later(() => import('./screens/billing-screen'), 'BillingScreen') },
        {
          path: '/bots/:botId',
          element: <BotLayout />,
          children: [
            { index: true, element: <Navigate to="knowledge" replace /> },
            { path: 'knowledge', element: <KnowledgeScreen /> },
            { path: 'try', element: <TryItScreen /> },
            { path: 'channels', element: <ChannelsScreen /> },
            { path: 'inbox', element: <InboxScreen />, children: [{ path: ':conversationId', element: <TranscriptPane /> }] },
            { path: 'coaching', element: later(() => import('./screens/coaching-screen'), 'CoachingScreen') },
            { path: 'deliveries', element: later(() => import('./screens/deliveries-screen'), 'DeliveriesScreen') },
            { path: 'analytics', element: later(() => import('./screens/analytics-screen'), 'AnalyticsScreen') },
            { path: 'settings', element: later(() => import('./screens/settings-screen'), 'SettingsScreen') },
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
