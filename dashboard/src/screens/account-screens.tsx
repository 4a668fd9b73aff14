import { useEffect, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import { publicRequest } from '../api';
import { ErrorMessage, Field, PageHeading } from '../ui';
import { AuthFrame } from './auth-screens';

// The emailed links carry their token in the fragment (#token=…), which browsers never send to a
// server, so it stays out of access logs and Referer headers.
function tokenFromLink(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
}

/** Where the verification email leads: confirms the address as soon as it opens. */
export function VerifyEmailScreen() {
  const [state, setState] = useState<{ status: 'working' } | { status: 'done'; email: string } | { status: 'failed'; error: unknown }>({ status: 'working' });
  const started = useRef(false);
  useEffect(() => {
    // Once only: the token is single-use, and development mode runs effects twice.
    if (started.current) return;
    started.current = true;
    const token = tokenFromLink();
    if (!token) {
      setState({ status: 'failed', error: new Error('This link has no token. Open the link from the email again, or ask for a new one after signing in.') });
      return;
    }
    publicRequest<{ email: string }>('/v1/auth/verify-email', { token }).then(
      ({ email }) => setState({ status: 'done', email }),
      (error: unknown) => setState({ status: 'failed', error }),
    );
  }, []);
  return (
    <AuthFrame>
      <PageHeading title="Confirm your email">Confirm your email</PageHeading>
      {state.status === 'working' ? <p role="status">Confirming your address…</p> : null}
      {state.status === 'done' ? (
        <p className="notice" role="status">
          Thank you: {state.email} is confirmed.
        </p>
      ) : null}
      {state.status === 'failed' ? <ErrorMessage error={state.error} /> : null}
      <p className="auth-links">
        <Link to="/">Go to your bots</Link>
      </p>
    </AuthFrame>
  );
}

interface ResetForm {
  password: string;
  repeat: string;
}

/** Where the password-reset email leads: choose a new password (every session ends with it). */
export function ResetPasswordScreen() {
  const [token] = useState(tokenFromLink);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const { register, handleSubmit, formState, getValues } = useForm<ResetForm>();
  const submit = handleSubmit(async ({ password }) => {
    setError(null);
    try {
      await publicRequest('/v1/auth/password-reset/confirm', { token, password });
      setDone(true);
    } catch (err) {
      setError(err);
    }
  });
  return (
    <AuthFrame>
      <PageHeading title="Choose a new password">Choose a new password</PageHeading>
      {done ? (
        <>
          <p className="notice" role="status">
            Your password is changed and every session is signed out. Sign in with the new password.
          </p>
          <p className="auth-links">
            <a href="/app/signin">Sign in</a>
          </p>
        </>
      ) : !token ? (
        <>
          <p className="error" role="alert">
            This link has no token. Open the link from the email again, or ask for a new one.
          </p>
          <p className="auth-links">
            <Link to="/forgot-password">Ask for a new link</Link>
          </p>
        </>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field label="New password" hint="At least 10 characters." error={formState.errors.password?.message}>
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="new-password"
                {...register('password', { required: 'Choose a password', minLength: { value: 10, message: 'Use at least 10 characters' } })}
              />
            )}
          </Field>
          <Field label="Repeat the new password" error={formState.errors.repeat?.message}>
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="new-password"
                {...register('repeat', { required: 'Type the password again', validate: (value) => value === getValues('password') || 'The two passwords differ' })}
              />
            )}
          </Field>
          <ErrorMessage error={error} />
          <button className="button" type="submit" disabled={formState.isSubmitting}>
            {formState.isSubmitting ? 'Saving…' : 'Save new password'}
          </button>
          <p className="auth-links">
            <Link to="/forgot-password">Ask for a new link</Link>
          </p>
        </form>
      )}
    </AuthFrame>
  );
}
