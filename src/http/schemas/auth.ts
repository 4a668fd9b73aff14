import { z } from 'zod';

const email = z.email().max(254).describe('Compared case-insensitively');
// An upper bound keeps a huge "password" from being fed to argon2.
const password = z.string().min(10, 'must be at least 10 characters').max(1024);

export const signupBody = z.object({
  email,
  password,
  name: z.string().trim().min(1).max(200),
});

export const loginBody = z.object({ email, password: z.string().min(1).max(1024) });

export const refreshBody = z
  .object({ refreshToken: z.string().min(1).max(512).optional() })
  .describe('Scripts send the refresh token; the dashboard sends none and presents its session cookie (with X-Requested-With)');

export const logoutBody = z
  .object({ refreshToken: z.string().min(1).max(512).optional() })
  .describe('Without a refresh token every session of the creator ends');

export const sessionResponse = z.object({
  accessToken: z.string().describe('Short-lived JWT; send as Authorization: Bearer <token>'),
  refreshToken: z
    .string()
    .optional()
    .describe('Single-use; exchange at /v1/auth/refresh for a new pair. Absent in cookie mode (X-Requested-With sent), where an httpOnly cookie carries it'),
  creator: z.object({ id: z.uuid(), email: z.string(), name: z.string() }),
});

const linkToken = z.string().min(16).max(256).describe('The token from the emailed link');

export const verifyEmailBody = z.object({ token: linkToken });

export const verifyEmailResponse = z.object({ verified: z.literal(true), email: z.string() });

export const resendVerificationResponse = z.object({
  alreadyVerified: z.boolean().describe('True when the address is verified already and nothing was sent'),
});

export const passwordResetBody = z.object({ email });

export const passwordResetAccepted = z
  .object({ accepted: z.literal(true) })
  .describe('Always the same answer: a link is emailed if the address belongs to an account');

export const passwordResetConfirmBody = z.object({ token: linkToken, password });
