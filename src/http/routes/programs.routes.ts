import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CoachingAdminService } from '../../coaching/coaching-admin.service.js';
import type { ProgramService } from '../../coaching/program.service.js';
import type { Enrollment, Program, ProgramAnswer } from '../../coaching/program.types.js';
import { botParams } from '../schemas/bots.js';
import {
  contactParams,
  createProgramBody,
  enrollBody,
  enrollmentListQuery,
  enrollmentListResponse,
  enrollmentParams,
  enrollmentResponse,
  programListResponse,
  programParams,
  programResponse,
  scheduledQuery,
  scheduledResponse,
  timeZoneBody,
  timeZoneResponse,
  updateProgramBody,
} from '../schemas/programs.js';

function toProgram(p: Program) {
  return { id: p.id, name: p.name, slug: p.slug, steps: p.steps, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() };
}

function toEnrollment(e: Enrollment & { answers?: ProgramAnswer[] }) {
  return {
    id: e.id,
    programId: e.programId,
    contactId: e.contactId,
    status: e.status,
    nextStep: e.nextStep,
    enrolledAt: e.enrolledAt.toISOString(),
    ...(e.answers ? { answers: e.answers.map((a) => ({ ...a, answeredAt: a.answeredAt.toISOString() })) } : {}),
  };
}

/** Programs, enrollments, contacts' time zones and the bot's proactive messages. */
export const programRoutes: FastifyPluginAsyncZod<{ programs: ProgramService; coaching: CoachingAdminService }> = async (app, { programs, coaching }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['coaching'], security: [{ bearer: [] }] };

  app.post(
    '/bots/:botId/programs',
    { schema: { ...common, summary: 'Create a program: steps sent to each enrolled contact on their own clock', params: botParams, body: createProgramBody, response: { 201: programResponse } } },
    async (request, reply) => reply.status(201).send(toProgram(await programs.create(request.creatorId, request.params.botId, request.body))),
  );

  app.get('/bots/:botId/programs', { schema: { ...common, summary: "List the bot's programs", params: botParams, response: { 200: programListResponse } } }, async (request) => ({
    programs: (await programs.list(request.creatorId, request.params.botId)).map(toProgram),
  }));

  app.get('/bots/:botId/programs/:programId', { schema: { ...common, summary: 'Get a program', params: programParams, response: { 200: programResponse } } }, async (request) =>
    toProgram(await programs.get(request.creatorId, request.params.botId, request.params.programId)),
  );

  app.patch(
    '/bots/:botId/programs/:programId',
    { schema: { ...common, summary: 'Change a program; steps not yet sent follow the change', params: programParams, body: updateProgramBody, response: { 200: programResponse } } },
    async (request) => toProgram(await programs.update(request.creatorId, request.params.botId, request.params.programId, request.body)),
  );

  app.delete(
    '/bots/:botId/programs/:programId',
    { schema: { ...common, summary: 'Delete a program; its enrolled contacts get no further steps', params: programParams, response: { 204: z.null().describe('Deleted') } } },
    async (request, reply) => {
      await programs.delete(request.creatorId, request.params.botId, request.params.programId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/bots/:botId/programs/:programId/enrollments',
    {
      schema: {
        ...common,
        summary: 'Enroll a contact (201), or return their running enrollment (200)',
        params: programParams,
        body: enrollBody,
        response: { 200: enrollmentResponse, 201: enrollmentResponse },
      },
    },
    async (request, reply) => {
      const { enrollment, created } = await programs.enrollContact(request.creatorId, request.params.botId, request.params.programId, request.body.contactId);
      return reply.status(created ? 201 : 200).send(toEnrollment(enrollment));
    },
  );

  app.get(
    '/bots/:botId/programs/:programId/enrollments',
    {
      schema: {
        ...common,
        summary: "The program's enrollments, newest first, with the contact and the answers given",
        params: programParams,
        querystring: enrollmentListQuery,
        response: { 200: enrollmentListResponse },
      },
    },
    async (request) => {
      const { limit, before } = request.query;
      const enrollments = await programs.enrollments(request.creatorId, request.params.botId, request.params.programId, { limit, before });
      return {
        enrollments: enrollments.map((e) => ({ ...toEnrollment(e), contact: e.contact })),
        nextCursor: enrollments.length === limit ? enrollments.at(-1)!.id : null,
      };
    },
  );

  app.post(
    '/bots/:botId/programs/:programId/enrollments/:enrollmentId/:action',
    { schema: { ...common, summary: 'Pause, resume or end an enrollment', params: enrollmentParams, response: { 200: enrollmentResponse } } },
    async (request) => {
      const { botId, programId, enrollmentId, action } = request.params;
      return toEnrollment(await programs.changeEnrollment(request.creatorId, botId, programId, enrollmentId, action));
    },
  );

  app.put(
    '/bots/:botId/contacts/:contactId/time-zone',
    { schema: { ...common, summary: "Set a contact's time zone (reminders, quiet hours, program days)", params: contactParams, body: timeZoneBody, response: { 200: timeZoneResponse } } },
    async (request) => coaching.setTimeZone(request.creatorId, request.params.botId, request.params.contactId, request.body.timeZone),
  );

  app.get(
    '/bots/:botId/scheduled-messages',
    {
      schema: {
        ...common,
        summary: 'Proactive messages (reminders, program steps), latest due first, with why any was skipped',
        params: botParams,
        querystring: scheduledQuery,
        response: { 200: scheduledResponse },
      },
    },
    async (request) => {
      const { status, contactId, limit } = request.query;
      const sends = await coaching.scheduled(request.creatorId, request.params.botId, { limit, ...(status ? { status } : {}), ...(contactId ? { contactId } : {}) });
      return {
        messages: sends.map((s) => ({
          id: s.id,
          contactId: s.contactId,
          channel: s.channel,
          kind: s.kind,
          effectKey: s.effectKey,
          dueAt: s.dueAt.toISOString(),
          status: s.status,
          reason: s.reason,
        })),
      };
    },
  );
};
