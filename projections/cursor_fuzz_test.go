package projections_test

import (
	"reflect"
	"testing"

	"partners/projections"
)

// Any cursor a client sends is either refused or read back to the same key;
// never a panic.
func FuzzDecodeCursor(f *testing.F) {
	for _, seed := range []string{"", projections.EncodeCursor("a", "b"), projections.EncodeCursor("2026-01-01T00:00:00Z", "x"),
		"!!!", "bm90LWpzb24", "W10", "WzFd", "WyJhIiwxLDJd", string(make([]byte, 600))} {
		f.Add(seed, 2)
	}
	f.Fuzz(func(t *testing.T, s string, parts int) {
		if parts < 0 || parts > 4 {
			return
		}
		key, err := projections.DecodeCursor(s, parts)
		if err != nil || key == nil {
			return
		}
		again, err := projections.DecodeCursor(projections.EncodeCursor(key...), parts)
		if err != nil || !reflect.DeepEqual(again, key) {
			t.Fatalf("cursor %q decoded to %v but re-encoding gives %v, %v", s, key, again, err)
		}
	})
}
