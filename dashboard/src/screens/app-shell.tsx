import { Link, NavLink, Outlet } from 'react-router';
import { useState } from 'react';
import { useSession } from '../session';
import { ErrorMessage } from '../ui';

/** The frame of every signed-in screen: a skip link, the header with the creator and sign-out, the screen. */
export function AppShell() {
  const session = useSession();
  const [error, setError] = useState<unknown>(null);
  const creator = session.state.status === 'signed-in' ? session.state.creator : null;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Coaching dashboard
        </Link>
        <nav aria-label="Account" className="topnav">
          <NavLink to="/" end>
            Bots
          </NavLink>
          <NavLink to="/billing">Billing</NavLink>
          <NavLink to="/api-keys">API keys</NavLink>
        </nav>
        <div className="topbar-end">
          {creator ? <span className="who" title={creator.email}>{creator.name}</span> : null}
          <button
            type="button"
            className="button secondary small"
            onClick={() => {
              setError(null);
              session.signOut().catch(setError);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="page">
        <ErrorMessage error={error} />
        <Outlet />
      </main>
    </>
  );
}
