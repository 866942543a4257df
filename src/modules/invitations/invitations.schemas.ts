import { Type, type Static } from 'typebox';
import { Email, Strict, Timestamp, Uuid } from '../../http/schemas.js';
import { Password, PersonName, RoleSchema } from '../workspaces/workspaces.schemas.js';

export const CreateInvitationBody = Strict({ email: Email, role: RoleSchema });
export type CreateInvitationInput = Static<typeof CreateInvitationBody>;

export const Invitation = Type.Object({
  id: Uuid, email: Type.String(), role: RoleSchema, invitedBy: Type.Union([Uuid, Type.Null()]), createdAt: Timestamp, expiresAt: Timestamp,
});
export const CreatedInvitation = Type.Object({
  ...Invitation.properties,
  token: Type.String({ description: 'shown once; only its hash is stored' }),
  acceptUrl: Type.String({ description: 'the link to send; the token rides in the fragment, which browsers never send on (no Referer leak)' }),
});
export const InvitationList = Type.Object({ items: Type.Array(Invitation) });

export const AcceptInvitationBody = Strict({
  token: Type.String({ minLength: 10, maxLength: 200 }),
  name: Type.Optional(PersonName),
  password: Type.Optional(Password),
});
export type AcceptInvitationInput = Static<typeof AcceptInvitationBody>;
export const AcceptedInvitation = Type.Object({
  workspace: Type.Object({ id: Uuid, name: Type.String(), slug: Type.String() }),
  user: Type.Object({ id: Uuid, email: Type.String(), name: Type.String() }),
  role: RoleSchema,
  accountCreated: Type.Boolean({ description: 'true when a new account was made: sign in with the password just chosen' }),
});
