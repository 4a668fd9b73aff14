import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { onSignedOut, refreshSession, signIn, signOut, signUp, type Creator } from './api';

type SessionState = { status: 'loading' } | { status: 'signed-out'; notice?: string } | { status: 'signed-in'; creator: Creator };

interface Session {
  state: SessionState;
  signIn(email: string, password: string): Promise<void>;
  signUp(name: string, email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

/** Restores the session from its cookie at start and tells the app when it ends. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const queries = useQueryClient();

  useEffect(() => {
    onSignedOut(() => {
      queries.clear();
      setState({ status: 'signed-out', notice: 'Your session has ended; please sign in again.' });
    });
    refreshSession()
      .then((creator) => setState(creator ? { status: 'signed-in', creator } : { status: 'signed-out' }))
      .catch(() => setState({ status: 'signed-out' }));
  }, [queries]);

  const doSignIn = useCallback(async (email: string, password: string) => setState({ status: 'signed-in', creator: await signIn(email, password) }), []);
  const doSignUp = useCallback(
    async (name: string, email: string, password: string) => setState({ status: 'signed-in', creator: await signUp(name, email, password) }),
    [],
  );
  const doSignOut = useCallback(async () => {
    try {
      await signOut();
    } finally {
      queries.clear();
      setState({ status: 'signed-out' });
    }
  }, [queries]);

  const value = useMemo(() => ({ state, signIn: doSignIn, signUp: doSignUp, signOut: doSignOut }), [state, doSignIn, doSignUp, doSignOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The current session and the actions that change it. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
