/** A step or executor result's reason (a message) rendered in English or French, for assertions. */
import type { Message } from '../../src/i18n/messages.ts';
import { render } from '../../src/i18n/render.ts';

export const en = (r: { reason?: Message } | undefined): string | undefined => (r?.reason === undefined ? undefined : render(r.reason, 'en'));
export const fr = (r: { reason?: Message } | undefined): string | undefined => (r?.reason === undefined ? undefined : render(r.reason, 'fr'));
