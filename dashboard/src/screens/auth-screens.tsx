import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import { requestPasswordReset } from '../api';
import { useSession } from '../session';
import { ErrorMessage, Field, PageHeading } from '../ui';

interface SignInForm {
  email: string;
  password: string;
}

/** The centred card every signed-out screen sits in. */
export function AuthFrame({ children }: { children: React.ReactNode }) {
  return (
    <main id="main" className="auth-page">
      <div className="auth-card">
        <p className="brand">Coaching dashboard</p>
        {children}
      </div>
    </main>
  );
}

/** Sign in with email and password. */
export function SignInScreen() {
  const session = useSession();
  const notice = session.state.status === 'signed-out' ? session.state.notice : undefined;
  const [error, setError] = useState<unknown>(null);
  const { register, handleSubmit, formState } = useForm<SignInForm>();
  const submit = handleSubmit(async ({ email, password }) => {
    setError(null);
    try {
      await session.signIn(email, password);
    } catch (err) {
      setError(err);
    }
  });
  return (
    <AuthFrame>
      <PageHeading title="Sign in">Sign in</PageHeading>
      {notice && !error ? <p className="notice" role="status">{notice}</p> : null}
      <form onSubmit={submit} noValidate>
        <Field label="Email" error={formState.errors.email?.message}>
          {(props) => <input {...props} type="email" autoComplete="email" {...register('email', { required: 'Enter your email address' })} />}
        </Field>
        <Field label="Password" error={formState.errors.password?.message}>
          {(props) => <input {...props} type="password" autoComplete="current-password" {...register('password', { required: 'Enter your password' })} />}
        </Field>
        <ErrorMessage error={error} />
        <button className="button" type="submit" disabled={formState.isSubmitting}>
          {formState.isSubmitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="auth-links">
        New here? <Link to="/signup">Create an account</Link>
        <br />
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
    </AuthFrame>
  );
}

interface SignUpForm {
  name: string;
  email: string;
  password: string;
}

/** Create an account; signed in at once. */
export function SignUpScreen() {
  const session = useSession();
  const [error, setError] = useState<unknown>(null);
  const { register, handleSubmit, formState } = useForm<SignUpForm>();
  const submit = handleSubmit(async ({ name, email, password }) => {
    setError(null);
    try {
      await session.signUp(name, email, password);
    } catch (err) {
      setError(err);
    }
  });
  return (
    <AuthFrame>
      <PageHeading title="Create your account">Create your account</PageHeading>
      <form onSubmit={submit} noValidate>
        <Field label="Your name" error={formState.errors.name?.message}>
          {(props) => <input {...props} autoComplete="name" {...register('name', { required: 'Enter your name', maxLength: { value: 200, message: 'At most 200 characters' } })} />}
        </Field>
        <Field label="Email" hint="We send a link to confirm it." error={formState.errors.email?.message}>
          {(props) => <input {...props} type="email" autoComplete="email" {...register('email', { required: 'Enter your email address' })} />}
        </Field>
        <Field label="Password" hint="At least 10 characters." error={formState.errors.password?.message}>
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              {...register('password', { required: 'Choose a password', minLength: { value: 10, message: 'Use at least 10 characters' } })}
            />
          )}
        </Field>
        <ErrorMessage error={error} />
        <button className="button" type="submit" disabled={formState.isSubmitting}>
          {formState.isSubmitting ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p className="auth-links">
        Have an account? <Link to="/signin">Sign in</Link>
      </p>
    </AuthFrame>
  );
}

/** Asks for a password-reset email; the link in it leads to the platform's reset page. */
export function ForgotPasswordScreen() {
  const [error, setError] = useState<unknown>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { register, handleSubmit, formState } = useForm<{ email: string }>();
  const submit = handleSubmit(async ({ email }) => {
    setError(null);
    try {
      await requestPasswordReset(email);
      setSentTo(email);
    } catch (err) {
      setError(err);
    }
  });
  return (
    <AuthFrame>
      <PageHeading title="Reset your password">Reset your password</PageHeading>
      {sentTo ? (
        <p className="notice" role="status">
          If {sentTo} belongs to an account, an email with a link to choose a new password is on its way.
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field label="Email" hint="We email you a link to choose a new password." error={formState.errors.email?.message}>
            {(props) => <input {...props} type="email" autoComplete="email" {...register('email', { required: 'Enter your email address' })} />}
          </Field>
          <ErrorMessage error={error} />
          <button className="button" type="submit" disabled={formState.isSubmitting}>
            Email me a link
          </button>
        </form>
      )}
      <p className="auth-links">
        <Link to="/signin">Back to sign in</Link>
      </p>
    </AuthFrame>
  );
}
