import { Conversation, Message, MessageBody, ReplyGuard, Tag } from '../conversations/conversations.schemas.js';
import { Type, type Static } from 'typebox';
import { Nullable, Strict, Timestamp, Uuid } from '../../http/schemas.js';
import { PLACEHOLDERS } from './macros.template.js';

export const MacroActions = Strict(
  {
    status: Type.Optional(Type.Enum(['open', 'pending', 'resolved', 'closed'] as const)),
    priority: Type.Optional(Type.Enum(['low', 'normal', 'high', 'urgent'] as const)),
    addTags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
  },
  { description: 'applied to the conversation when the macro is sent' },
);
export type MacroActions = Static<typeof MacroActions>;

const Body = Type.String({ minLength: 1, maxLength: 20000, description: `text with placeholders: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}; {{name | fallback}} for empty values` });
const Name = Type.String({ minLength: 1, maxLength: 200 });

export const CreateMacroBody = Strict({ name: Name, body: Body, actions: Type.Optional(MacroActions) });
export type CreateMacroInput = Static<typeof CreateMacroBody>;
export const UpdateMacroBody = Strict({ name: Type.Optional(Name), body: Type.Optional(Body), actions: Type.Optional(MacroActions) });
export type UpdateMacroInput = Static<typeof UpdateMacroBody>;

export const Macro = Type.Object({
  id: Uuid,
  name: Type.String(),
  body: Type.String(),
  actions: MacroActions,
  createdBy: Nullable(Uuid),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type MacroView = Static<typeof Macro>;
export const MacroList = Type.Object({ items: Type.Array(Macro), placeholders: Type.Array(Type.String()) });

export const MacroParams = Strict({ workspaceId: Uuid, id: Uuid });
export const ApplyParams = Strict({ workspaceId: Uuid, id: Uuid, macroId: Uuid });
export const ApplyBody = Type.Union([
  Strict({ send: Type.Optional(Type.Literal(false)) }),
  Strict({
    send: Type.Literal(true),
    type: Type.Enum(['reply', 'note'] as const),
    body: Type.Optional({ ...MessageBody, description: 'the text to send instead of the rendered body: the agent edited it in the composer' }),
    ...ReplyGuard,
  }),
]);
export type ApplyInput = Static<typeof ApplyBody>;
export const ApplyResult = Type.Object({
  body: Type.String({ description: 'the rendered text, for the composer (plain text)' }),
  actions: MacroActions,
  messageId: Nullable(Uuid),
  message: Type.Union([Message, Type.Null()], { description: 'with send: the message added' }),
  conversation: Type.Union([Conversation, Type.Null()], { description: 'with send: the conversation after the actions' }),
});
