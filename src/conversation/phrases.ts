/** The few fixed things the engine says itself, in the languages creators most often pick. */

const UNKNOWN: Record<string, string> = {
  en: "Good question! I couldn't find that in the material I coach from, and I'd rather not guess. Could you tell me a bit more, or ask me about something else we cover?",
  de: 'Gute Frage! Dazu habe ich in meinem Material nichts gefunden, und raten möchte ich nicht. Magst du mir etwas mehr erzählen oder mich etwas anderes zu unseren Themen fragen?',
  es: '¡Buena pregunta! No encontré eso en el material con el que trabajo y prefiero no adivinar. ¿Me cuentas un poco más o me preguntas sobre otro tema que tratemos?',
  fr: "Bonne question ! Je n'ai rien trouvé à ce sujet dans le contenu sur lequel je m'appuie, et je préfère ne pas deviner. Peux-tu m'en dire un peu plus, ou me poser une question sur un autre sujet que nous abordons ?",
  pt: 'Boa pergunta! Não encontrei isso no material em que me baseio e prefiro não adivinhar. Pode me contar um pouco mais ou perguntar sobre outro tema que abordamos?',
  it: 'Bella domanda! Non ho trovato nulla su questo nel materiale su cui mi baso e preferisco non tirare a indovinare. Puoi dirmi qualcosa in più o chiedermi di un altro argomento che trattiamo?',
  nl: 'Goede vraag! Ik heb dat niet gevonden in het materiaal waarmee ik coach, en ik gok liever niet. Kun je me wat meer vertellen, of iets anders vragen over de onderwerpen die we behandelen?',
};

const ATTACHMENTS_ONLY: Record<string, string> = {
  en: "Thanks for sending that! I can only read text messages for now — could you type your question for me?",
  de: 'Danke dafür! Ich kann im Moment nur Textnachrichten lesen – magst du mir deine Frage schreiben?',
  es: '¡Gracias por enviarlo! Por ahora solo puedo leer mensajes de texto: ¿me escribes tu pregunta?',
  fr: "Merci pour l'envoi ! Pour l'instant je ne lis que les messages texte : peux-tu m'écrire ta question ?",
  pt: 'Obrigado por enviar! Por enquanto só consigo ler mensagens de texto — pode escrever sua pergunta?',
  it: 'Grazie per averlo inviato! Per ora leggo solo messaggi di testo: puoi scrivermi la tua domanda?',
  nl: 'Bedankt voor het sturen! Ik kan voorlopig alleen tekstberichten lezen — wil je je vraag voor me typen?',
};

const DOCUMENT_READ: Record<string, string> = {
  en: 'Thanks, I have read “{name}”. What would you like to know about it?',
  de: 'Danke, ich habe „{name}“ gelesen. Was möchtest du darüber wissen?',
  es: 'Gracias, he leído «{name}». ¿Qué te gustaría saber al respecto?',
  fr: "Merci, j'ai lu « {name} ». Que veux-tu savoir à ce sujet ?",
  pt: 'Obrigado, li “{name}”. O que você gostaria de saber sobre ele?',
  it: 'Grazie, ho letto «{name}». Cosa vorresti sapere al riguardo?',
  nl: 'Bedankt, ik heb ‘{name}’ gelezen. Wat wil je erover weten?',
};

function pick(table: Record<string, string>, language: string): string {
  const primary = language.toLowerCase().split('-')[0] ?? 'en';
  return table[primary] ?? (table.en as string);
}

/** The default "I don't know" reply, used when the bot has no `unknownAnswer` of its own. */
export function defaultUnknownAnswer(language: string): string {
  return pick(UNKNOWN, language);
}

/** Every default "I don't know" reply by primary language subtag; `en` is the fallback, as in `defaultUnknownAnswer`. */
export function defaultUnknownAnswers(): Readonly<Record<string, string>> {
  return UNKNOWN;
}

/** Said when a turn holds attachments but no text. */
export function attachmentsOnlyAnswer(language: string): string {
  return pick(ATTACHMENTS_ONLY, language);
}

/** Said when the user sent a document without a question: it was read, so ask what they want to know. */
export function documentReadAnswer(language: string, name: string): string {
  return pick(DOCUMENT_READ, language).replace('{name}', name);
}

// Built once: constructing Intl.DisplayNames costs more than assembling a whole prompt.
let languageNames: Intl.DisplayNames | undefined;

/** The English name of a language code ('pt-BR' → 'Brazilian Portuguese'), for instructions to the model. */
export function languageName(code: string): string {
  try {
    return (languageNames ??= new Intl.DisplayNames(['en'], { type: 'language' })).of(code) ?? code;
  } catch {
    // An invalid tag is still better passed through than dropped.
    return code;
  }
}
