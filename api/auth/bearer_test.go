package auth_test

import (
	"testing"

	"partners/api/auth"
)

func TestBearerToken(t *testing.T) {
	const jwtLike = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlLV8"
	tests := []struct {
		name   string
		header string
		want   string
		wantOK bool
	}{
		{name: "canonical", header: "Bearer abc", want: "abc", wantOK: true},
		{name: "JWT", header: "Bearer " + jwtLike, want: jwtLike, wantOK: true},
		{name: "lower-case scheme", header: "bearer abc", want: "abc", wantOK: true},
		{name: "upper-case scheme", header: "BEARER abc", want: "abc", wantOK: true},
		{name: "mixed-case scheme", header: "bEaReR abc", want: "abc", wantOK: true},
		{name: "several spaces", header: "Bearer    abc", want: "abc", wantOK: true},
		{name: "surrounding whitespace", header: " \tBearer abc \t", want: "abc", wantOK: true},
		{name: "token68 punctuation and padding", header: "Bearer a-b.c_d~e+f/g==", want: "a-b.c_d~e+f/g==", wantOK: true},
		{name: "absent", header: "", wantOK: false},
		{name: "blank", header: "   ", wantOK: false},
		{name: "scheme only", header: "Bearer", wantOK: false},
		{name: "scheme and space", header: "Bearer ", wantOK: false},
		{name: "scheme and spaces", header: "Bearer     ", wantOK: false},
		{name: "no separator", header: "Bearerabc", wantOK: false},
		{name: "tab separator", header: "Bearer\tabc", wantOK: false},
		{name: "other scheme", header: "Basic dXNlcjpwYXNz", wantOK: false},
		{name: "token scheme", header: "Token abc", wantOK: false},
		{name: "scheme prefix", header: "Bear abc", wantOK: false},
		{name: "two tokens", header: "Bearer abc def", wantOK: false},
		{name: "inner tab", header: "Bearer abc\tdef", wantOK: false},
		{name: "only padding", header: "Bearer ==", wantOK: false},
		{name: "padding inside", header: "Bearer a=b", wantOK: false},
		{name: "comma", header: "Bearer abc,def", wantOK: false},
		{name: "quoted", header: `Bearer "abc"`, wantOK: false},
		{name: "non-ASCII", header: "Bearer abcé", wantOK: false},
		{name: "newline injection", header: "Bearer abc\r\nX-Evil: 1", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := auth.BearerToken(tt.header)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
