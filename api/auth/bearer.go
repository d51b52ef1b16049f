package auth

import "strings"

// BearerToken extracts the token from an Authorization header value of the
// form "Bearer <token>". The scheme is matched case-insensitively and may be
// followed by one or more spaces; surrounding whitespace is ignored. It
// returns false when the header is absent, uses another scheme, has no token,
// or the token is not a syntactically valid token68 (RFC 7235), for example
// because it contains inner whitespace.
func BearerToken(header string) (string, bool) {
	const scheme = "bearer"
	h := strings.Trim(header, " \t")
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	rest := h[len(scheme):]
	if rest[0] != ' ' {
		return "", false
	}
	tok := strings.TrimLeft(rest, " ")
	if !isToken68(tok) {
		return "", false
	}
	return tok, true
}

// isToken68 reports whether s matches
// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
