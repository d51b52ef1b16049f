// Package mail owns the outbound e-mail of the partners service: it renders
// the transactional templates (partner invitations, contract-shared notices,
// accountant and team-member invitations, collaborator activation) in
// English, French and German, and hands the resulting messages to a Sender
// (SMTP, or .eml files on disk for development).
//
// The package is deliberately stateless about delivery: deciding *whether* a
// message must be sent, de-duplicating per (event, recipient) and choosing
// the stable Message-ID are the caller's job. A Sender delivers what it is
// given, with exactly the Message-ID it is given, and reports whether a
// failure is worth retrying (see [SendError] and [IsTemporary]).
//
// What this package must never do:
//   - log or put in an error a full e-mail address (use [MaskEmail]), a
//     message body, a link (links carry tokens) or SMTP credentials;
//   - invent or rewrite a Message-ID, or send to more than the one recipient
//     of a [Message];
//   - build HTML with anything but html/template, so that user-provided text
//     such as a personal message is always escaped.
package mail
