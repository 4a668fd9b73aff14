import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HabitService, SubscriptionWithStats } from '../../coaching/habit.service.js';
import type { Habit, HabitSubscription } from '../../coaching/habit.types.js';
import { botParams } from '../schemas/bots.js';
import {
  createHabitBody,
  habitListResponse,
  habitParams,
  habitResponse,
  subscribeBody,
  subscriptionListResponse,
  subscriptionResponse,
  updateHabitBody,
} from '../schemas/habits.js';

function toHabit(h: Habit) {
  return {
    id: h.id,
    name: h.name,
    localTime: h.localTime,
    daysOfWeek: h.daysOfWeek,
    timesPerWeek: h.timesPerWeek,
    createdAt: h.createdAt.toISOString(),
    updatedAt: h.updatedAt.toISOString(),
  };
}

function toSubscription(s: HabitSubscription | SubscriptionWithStats) {
  return {
    id: s.id,
    habitId: s.habitId,
    contactId: s.contactId,
    status: s.status,
    startedOn: s.startedOn,
    ...('stats' in s ? { timeZone: s.timeZone, today: s.today, stats: s.stats } : {}),
  };
}

/** Habits, their subscribers and each one's streaks and adherence. */
export const habitRoutes: FastifyPluginAsyncZod<{ habits: HabitService }> = async (app, { habits }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['coaching'], security: [{ bearer: [] }] };

  app.post(
    '/bots/:botId/habits',
    { schema: { ...common, summary: "Create a habit: subscribers are asked at its local time on its days", params: botParams, body: createHabitBody, response: { 201: habitResponse } } },
    async (request, reply) => reply.status(201).send(toHabit(await habits.create(request.creatorId, request.params.botId, request.body))),
  );

  app.get('/bots/:botId/habits', { schema: { ...common, summary: "List the bot's habits", params: botParams, response: { 200: habitListResponse } } }, async (request) => ({
    habits: (await habits.list(request.creatorId, request.params.botId)).map(toHabit),
  }));

  app.get('/bots/:botId/habits/:habitId', { schema: { ...common, summary: 'Get a habit', params: habitParams, response: { 200: habitResponse } } }, async (request) =>
    toHabit(await habits.get(request.creatorId, request.params.botId, request.params.habitId)),
  );

  app.patch(
    '/bots/:botId/habits/:habitId',
    { schema: { ...common, summary: 'Change a habit; asks not yet sent move to its new time and days', params: habitParams, body: updateHabitBody, response: { 200: habitResponse } } },
    async (request) => toHabit(await habits.update(request.creatorId, request.params.botId, request.params.habitId, request.body)),
  );

  app.delete(
    '/bots/:botId/habits/:habitId',
    { schema: { ...common, summary: 'Delete a habit with its check-ins; its subscribers are asked no more', params: habitParams, response: { 204: z.null().describe('Deleted') } } },
    async (request, reply) => {
      await habits.delete(request.creatorId, request.params.botId, request.params.habitId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/bots/:botId/habits/:habitId/subscriptions',
    {
      schema: {
        ...common,
        summary: 'Subscribe a contact (201), or return their subscription made active again (200)',
        params: habitParams,
        body: subscribeBody,
        response: { 200: subscriptionResponse, 201: subscriptionResponse },
      },
    },
    async (request, reply) => {
      const { subscription, created } = await habits.subscribeContact(request.creatorId, request.params.botId, request.params.habitId, request.body.contactId);
      return reply.status(created ? 201 : 200).send(toSubscription(subscription));
    },
  );

  app.get(
    '/bots/:botId/habits/:habitId/subscriptions',
    {
      schema: {
        ...common,
        summary: "Each subscriber's current and longest streak and adherence over their last 7 and 30 local days",
        params: habitParams,
        response: { 200: subscriptionListResponse },
      },
    },
    async (request) => ({ subscriptions: (await habits.subscriptions(request.creatorId, request.params.botId, request.params.habitId)).map(toSubscription) }),
  );
};
