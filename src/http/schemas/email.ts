import { z } from 'zod';
import { emailCategories } from '../../email/ports.js';

const address = z.object({ email: z.string(), name: z.string().optional() });

export const outboxQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Newest entries first'),
});

export const outboxResponse = z.object({
  entries: z.array(
    z.object({
      id: z.uuid(),
      category: z.enum(emailCategories),
      to: address,
      from: address,
      subject: z.string(),
      text: z.string(),
      html: z.string(),
      unsubscribeUrl: z.string().optional(),
      createdAt: z.iso.datetime(),
    }),
  ),
});

export const unsubscribeQuery = z.object({ token: z.string().min(1).max(512) });

export const webhookReceipt = z.object({
  received: z.number().int(),
  duplicates: z.number().int(),
  suppressionChanges: z.number().int(),
});
