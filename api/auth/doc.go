// Package auth owns bearer-token authentication for the partners HTTP API:
// it verifies a JWT taken from an "Authorization: Bearer <JWT>" header and
// turns it into a [Principal] (subject, normalized email, email verification
// state, name and scopes). It also mints HS256 tokens for the `partners token`
// command and for tests ([SignHS256]).
//
// Two key sources exist and each algorithm is bound to exactly one of them:
//
//   - HS256 is verified only with the configured shared secret ([Config.Secret]).
//   - RS256 and ES256 are verified only with public keys fetched from the
//     configured JWKS URL ([Config.JWKSURL]), refreshed in the background.
//
// Things this package must never do:
//
//   - log, print or put a token (or any part of it) into an error message;
//     every failure is reported as a short reason wrapping [ErrInvalidToken];
//   - accept an unsigned token ("alg": "none") or any algorithm other than
//     HS256, RS256 and ES256;
//   - mix key sources: an HS256 token is never checked against JWKS material
//     (this is what defeats the classic RSA-public-key-as-HMAC-secret
//     "algorithm confusion" attack), and an RS256/ES256 token is never checked
//     against the shared secret. An algorithm whose key source is not
//     configured is refused outright.
package auth
