import type { Deps } from '../context.js';
import { Type } from 'typebox';
import { WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { ApplyBody, ApplyParams, ApplyResult, CreateMacroBody, Macro, MacroList, MacroParams, UpdateMacroBody } from './macros.schemas.js';
import { applyMacro, createMacro, deleteMacro, listMacros, updateMacro } from './macros.service.js';

const tags = ['macros'];

/** Macros: everyone reads them, admins manage them, agents apply them to a conversation. */
export function macroRoutes(app: App, server: Deps): void {
  app.get(
    '/macros',
    {
      schema: { tags, summary: 'Macros, by name, and the placeholders a body may use', params: WorkspaceParams, response: { 200: MacroList, ...errorResponses(401, 404) } },
    },
    async (request) => listMacros(contextOf(server, request)),
  );

  app.post(
    '/macros',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        summary: 'Create a macro (admin); unknown placeholders are refused',
        params: WorkspaceParams,
        body: CreateMacroBody,
        response: { 201: Macro, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await createMacro(contextOf(server, request), request.body)),
  );

  app.patch(
    '/macros/:id',
    {
      config: { minRole: 'admin' },
      schema: { tags, summary: 'Change a macro (admin)', params: MacroParams, body: UpdateMacroBody, response: { 200: Macro, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request) => updateMacro(contextOf(server, request), request.params.id, request.body),
  );

  app.delete(
    '/macros/:id',
    {
      config: { minRole: 'admin' },
      schema: { tags, summary: 'Delete a macro (admin)', params: MacroParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } },
    },
    async (request, reply) => {
      await deleteMacro(contextOf(server, request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/conversations/:id/macros/:macroId/apply',
    {
      schema: {
        tags,
        summary: 'Render a macro for a conversation (preview for the composer), or send it and apply its actions with {send: true, type}',
        params: ApplyParams,
        body: ApplyBody,
        response: { 200: ApplyResult, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => applyMacro(contextOf(server, request), request.params.id, request.params.macroId, request.body),
  );
}
