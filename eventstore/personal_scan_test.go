package eventstore

import (
	"bytes"
	"crypto/cipher"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
)

func TestEachPersonalFindsOnlyPersonalObjects(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"note": "a {\"pd\": \"fake\"} in text \\", "email": {"pd": "p_1", "v": "a@b.fr"},
		"list": [{"pd": "p_2", "v": "x\"}y"}, {"other": {"pd": "p_3", "forgotten": true}}],
		"flat": {"n": 1, "s": "pd"}, "bad": {"pd": 3}, "deep": {"pd": "p_4", "v": "z", "extra": [1]}}`)
	var refs []string
	out, err := eachPersonal(doc, func(p personalObject) ([]byte, error) {
		refs = append(refs, p.Ref)
		return []byte(`"R"`), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"p_1", "p_2", "p_3"}; !reflect.DeepEqual(refs, want) {
		t.Fatalf("refs %v, want %v", refs, want)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("replaced document is not JSON: %v\n%s", err, out)
	}
	if got["email"] != "R" || got["note"] != `a {"pd": "fake"} in text \` {
		t.Fatalf("replacement went wrong: %s", out)
	}
	if l := got["list"].([]any); l[0] != "R" || l[1].(map[string]any)["other"] != "R" {
		t.Fatalf("replacement in arrays went wrong: %s", out)
	}
}

func TestSealOpenPlainRoundTrip(t *testing.T) {
	t.Parallel()
	k, err := NewKeyring(DevelopmentDataKey)
	if err != nil {
		t.Fatal(err)
	}
	ref := k.Ref("ann@example.fr")
	gone := domain.ForgottenOf("p_gone")
	doc, _ := json.Marshal(map[string]any{"email": domain.PersonalOf(ref, `ann@example.fr "<&>"`), "gone": gone, "n": 1})
	refs, err := personRefs(doc)
	if err != nil || len(refs) != 2 {
		t.Fatalf("refs %v %v", refs, err)
	}
	id := uuid.New()
	aead, err := newAEAD(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[domain.PersonRef]activeKey{ref: {id: id, aead: aead}}
	sealed, err := seal(doc, keys)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(sealed) || bytes.Contains(sealed, []byte("ann@example.fr")) {
		t.Fatalf("sealed document leaks or is invalid: %s", sealed)
	}
	collected := map[uuid.UUID]struct{}{}
	collectKeyIDs(sealed, collected)
	if _, ok := collected[id]; !ok || len(collected) != 1 {
		t.Fatalf("key ids %v, want %v", collected, id)
	}
	opened, err := (&Opener{keys: map[uuid.UUID]cipher.AEAD{id: aead}}).Open(sealed)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Plain(opened)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(plain, &got); err != nil {
		t.Fatal(err)
	}
	if got["email"] != `ann@example.fr "<&>"` || got["gone"] != domain.Forgotten || got["n"] != 1.0 {
		t.Fatalf("plain %s", plain)
	}
	// Without the key the value reads as forgotten.
	opened, _ = (&Opener{keys: map[uuid.UUID]cipher.AEAD{id: nil}}).Open(sealed)
	plain, _ = Plain(opened)
	if bytes.Contains(plain, []byte("ann@")) || !bytes.Contains(plain, []byte(domain.Forgotten)) {
		t.Fatalf("destroyed key still opens: %s", plain)
	}
}

// The hand parser reads personal objects as encoding/json would.
func TestParsePersonalAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, obj := range []string{
		`{"pd":"p_1","v":"a@b.fr"}`,
		`{"pd": "p_1", "sk": "0b6f1f3e-7d1c-4a47-9a53-8f0e1f1b2c3d", "sv": "AbC+/9"}`,
		`{ "v" : "quote \" and \\ and \u00e9" , "pd" : "p_2" }`,
		`{"pd": "p_3", "forgotten": true}`,
		`{"forgotten":false,"pd":"p_4","v":null}`,
		`{"pd": 3, "v": "x"}`,
		`{"name": "pd"}`,
		`{"pd":"p_5","v":""}`,
	} {
		got, ok := parsePersonal([]byte(obj))
		// encoding/json's reading, with the ref's presence told apart.
		var ref struct {
			Ref *string `json:"pd"`
		}
		var want personalObject
		wantOK := json.Unmarshal([]byte(obj), &ref) == nil && ref.Ref != nil && json.Unmarshal([]byte(obj), &want) == nil
		if ok != wantOK || !reflect.DeepEqual(got, want) && wantOK {
			t.Errorf("%s: got %+v %v, want %+v %v", obj, got, ok, want, wantOK)
		}
	}
}
