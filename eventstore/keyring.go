package eventstore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
)

// DevelopmentDataKey is the key-encryption key used when none is configured
// in development. Production refuses to start without PARTNERS_DATA_KEY.
const DevelopmentDataKey = "partners-development-data-key-do-not-use-in-production"

// Keyring holds the key-encryption key (KEK) and turns personal data into
// sealed data and back. Each person has a data key of their own, stored
// wrapped by the KEK in person_keys; forgetting a person destroys it, which
// makes every sealed copy of their data (events, outbox rows) unreadable.
type Keyring struct {
	kek    cipher.AEAD
	refKey []byte

	// Active data keys by person, for sealing. Entries live briefly: after a
	// person is forgotten by another replica, this replica may seal new data
	// with the destroyed key for at most activeTTL, which only makes that
	// data unreadable too.
	mu        sync.Mutex
	active    map[domain.PersonRef]activeKey
	activeTTL time.Duration
	now       func() time.Time
}

type activeKey struct {
	id      uuid.UUID
	aead    cipher.AEAD
	expires time.Time
}

// NewKeyring derives the wrapping key and the email-hashing key from secret.
func NewKeyring(secret string) (*Keyring, error) {
	if len(secret) < 16 {
		return nil, errors.New("data key must be at least 16 characters")
	}
	wrap, err := hkdf.Key(sha256.New, []byte(secret), nil, "partners kek v1", 32)
	if err != nil {
		return nil, err
	}
	refKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "partners person ref v1", 32)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(wrap)
	if err != nil {
		return nil, err
	}
	return &Keyring{kek: aead, refKey: refKey, active: map[domain.PersonRef]activeKey{}, activeTTL: 30 * time.Second, now: time.Now}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Ref is the keyed hash of a normalized email: what lookups by email and
// forgetting compare. The same email always gives the same ref.
func (k *Keyring) Ref(normalizedEmail string) domain.PersonRef {
	m := hmac.New(sha256.New, k.refKey)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(normalizedEmail))))
	return domain.PersonRef("p_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18]))
}

// Personal is a shorthand for the value of an email owned by that email.
func (k *Keyring) Personal(owner string, value string) domain.Personal {
	return domain.PersonalOf(k.Ref(owner), value)
}

// SealSecret encrypts a short-lived secret (an invitation token on its way
// to an email) with the KEK itself.
func (k *Keyring) SealSecret(plain []byte) []byte {
	nonce := make([]byte, k.kek.NonceSize())
	_, _ = rand.Read(nonce)
	return k.kek.Seal(nonce, nonce, plain, []byte("secret"))
}

// OpenSecret reverses SealSecret.
func (k *Keyring) OpenSecret(sealed []byte) ([]byte, error) {
	n := k.kek.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed secret too short")
	}
	return k.kek.Open(nil, sealed[:n], sealed[n:], []byte("secret"))
}

func (k *Keyring) wrap(id uuid.UUID, dataKey []byte) []byte {
	nonce := make([]byte, k.kek.NonceSize())
	_, _ = rand.Read(nonce)
	return k.kek.Seal(nonce, nonce, dataKey, id[:])
}

func (k *Keyring) unwrap(id uuid.UUID, wrapped []byte) (cipher.AEAD, error) {
	n := k.kek.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("wrapped key too short")
	}
	raw, err := k.kek.Open(nil, wrapped[:n], wrapped[n:], id[:])
	if err != nil {
		return nil, fmt.Errorf("unwrap data key %s: %w", id, err)
	}
	return newAEAD(raw)
}

// activeKeys returns a data key for each person, creating missing ones in
// q (in its transaction when q is one: AppendTx; committed at once on the
// pool, where a key nobody used yet is harmless).
func (k *Keyring) activeKeys(ctx context.Context, q Queryer, refs []domain.PersonRef) (map[domain.PersonRef]activeKey, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	out := make(map[domain.PersonRef]activeKey, len(refs))
	now := k.now()
	var missing []string
	k.mu.Lock()
	for _, r := range refs {
		if a, ok := k.active[r]; ok && now.Before(a.expires) {
			out[r] = a
		} else if _, seen := out[r]; !seen {
			missing = append(missing, string(r))
		}
	}
	k.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	missing = dedupe(missing)
	// Offer a fresh key for each; keep whichever is active after the insert.
	// A concurrent insert of the same person commits after our statement's
	// snapshot, so a person can be missing from the answer: ask again.
	for attempt := 0; attempt < 3 && len(missing) > 0; attempt++ {
		ids := make([]uuid.UUID, len(missing))
		wrapped := make([][]byte, len(missing))
		for i := range missing {
			ids[i] = uuid.New()
			dk := make([]byte, 32)
			_, _ = rand.Read(dk)
			wrapped[i] = k.wrap(ids[i], dk)
		}
		rows, err := q.Query(ctx, `
			WITH offered AS (
				INSERT INTO person_keys (key_id, person_ref, wrapped_key)
				SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])
				ON CONFLICT (person_ref) WHERE forgotten_at IS NULL DO NOTHING
				RETURNING key_id, person_ref, wrapped_key)
			SELECT key_id, person_ref, wrapped_key FROM offered
			UNION ALL
			SELECT key_id, person_ref, wrapped_key FROM person_keys
			 WHERE person_ref = ANY($2) AND forgotten_at IS NULL`, ids, missing, wrapped)
		if err != nil {
			return nil, fmt.Errorf("person keys: %w", err)
		}
		for rows.Next() {
			var id uuid.UUID
			var ref string
			var w []byte
			if err := rows.Scan(&id, &ref, &w); err != nil {
				rows.Close()
				return nil, err
			}
			aead, err := k.unwrap(id, w)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[domain.PersonRef(ref)] = activeKey{id: id, aead: aead, expires: now.Add(k.activeTTL)}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("person keys: %w", err)
		}
		still := missing[:0]
		for _, r := range missing {
			if _, ok := out[domain.PersonRef(r)]; !ok {
				still = append(still, r)
			}
		}
		missing = still
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("person keys: %d persons got no key", len(missing))
	}
	return out, nil
}

// remember caches keys whose creating transaction committed.
func (k *Keyring) remember(keys map[domain.PersonRef]activeKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.active) > 100_000 {
		clear(k.active)
	}
	for r, a := range keys {
		k.active[r] = a
	}
}

// forgetLocally drops a person's cached key.
func (k *Keyring) forgetLocally(ref domain.PersonRef) {
	k.mu.Lock()
	delete(k.active, ref)
	k.mu.Unlock()
}

// Opener holds the data keys needed to open one batch of sealed documents.
// Keys are loaded per batch and never cached longer, so a forgotten person
// is forgotten by the very next read.
type Opener struct {
	keys map[uuid.UUID]cipher.AEAD // nil value: destroyed
}

// loadOpener fetches the keys that docs were sealed with.
func (k *Keyring) loadOpener(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, docs ...[]byte) (*Opener, error) {
	ids := map[uuid.UUID]struct{}{}
	for _, d := range docs {
		collectKeyIDs(d, ids)
	}
	o := &Opener{keys: make(map[uuid.UUID]cipher.AEAD, len(ids))}
	if len(ids) == 0 {
		return o, nil
	}
	list := make([]uuid.UUID, 0, len(ids))
	for id := range ids {
		list = append(list, id)
		o.keys[id] = nil
	}
	rows, err := q.Query(ctx, `SELECT key_id, wrapped_key FROM person_keys WHERE key_id = ANY($1) AND wrapped_key IS NOT NULL`, list)
	if err != nil {
		return nil, fmt.Errorf("load person keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var w []byte
		if err := rows.Scan(&id, &w); err != nil {
			return nil, err
		}
		aead, err := k.unwrap(id, w)
		if err != nil {
			return nil, err
		}
		o.keys[id] = aead
	}
	return o, rows.Err()
}

// sealedMarker is how sealed values are recognized without a full parse.
var sealedMarker = []byte(`"sk":`)
var clearMarker = []byte(`"pd":`)

// collectKeyIDs finds the key ids named by sealed values in a document.
func collectKeyIDs(doc []byte, into map[uuid.UUID]struct{}) {
	if !bytes.Contains(doc, sealedMarker) {
		return
	}
	_, _ = eachPersonal(doc, func(p personalObject) ([]byte, error) {
		if id, err := uuid.Parse(p.KeyID); err == nil {
			into[id] = struct{}{}
		}
		return nil, nil
	})
}

// personRefs lists the owners of the clear personal values in doc.
func personRefs(doc []byte) ([]domain.PersonRef, error) {
	if !bytes.Contains(doc, clearMarker) {
		return nil, nil
	}
	var refs []domain.PersonRef
	_, err := eachPersonal(doc, func(p personalObject) ([]byte, error) {
		refs = append(refs, domain.PersonRef(p.Ref))
		return nil, nil
	})
	return refs, err
}

// seal replaces every clear personal value {"pd": ref, "v": value} in doc by
// {"pd": ref, "sk": key id, "sv": ciphertext}.
func seal(doc []byte, keys map[domain.PersonRef]activeKey) ([]byte, error) {
	if !bytes.Contains(doc, clearMarker) {
		return doc, nil
	}
	return eachPersonal(doc, func(p personalObject) ([]byte, error) {
		ref := p.Ref
		if p.Forgotten {
			return personalObject{Ref: ref, Forgotten: true}.bytes(), nil
		}
		var val string
		if p.Value != nil {
			val = *p.Value
		}
		k, ok := keys[domain.PersonRef(ref)]
		if !ok {
			return nil, fmt.Errorf("no key for person %s", ref)
		}
		nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(val)+k.aead.Overhead())
		_, _ = rand.Read(nonce)
		ct := k.aead.Seal(nonce, nonce, []byte(val), []byte(ref))
		return personalObject{Ref: ref, KeyID: k.id.String(), Sealed: base64.RawStdEncoding.EncodeToString(ct)}.bytes(), nil
	})
}

// Open replaces every sealed value in doc by its clear form, or by the
// forgotten form when its key is destroyed.
func (o *Opener) Open(doc []byte) ([]byte, error) {
	if !bytes.Contains(doc, sealedMarker) {
		return doc, nil
	}
	return eachPersonal(doc, func(p personalObject) ([]byte, error) {
		ref := p.Ref
		forgotten := personalObject{Ref: ref, Forgotten: true}.bytes()
		id, err := uuid.Parse(p.KeyID)
		if err != nil {
			return forgotten, nil
		}
		aead := o.keys[id]
		ct, err := base64.RawStdEncoding.DecodeString(p.Sealed)
		if aead == nil || err != nil || len(ct) < aead.NonceSize() {
			return forgotten, nil
		}
		n := aead.NonceSize()
		plain, err := aead.Open(nil, ct[:n], ct[n:], []byte(ref))
		if err != nil {
			return forgotten, nil
		}
		v := string(plain)
		return personalObject{Ref: ref, Value: &v}.bytes(), nil
	})
}

// Forget destroys every data key of the person, for good, and reports how
// many there were.
func (k *Keyring) Forget(ctx context.Context, tx pgx.Tx, ref domain.PersonRef) (int64, error) {
	tag, err := tx.Exec(ctx, `UPDATE person_keys SET wrapped_key = NULL, forgotten_at = now()
		WHERE person_ref = $1 AND forgotten_at IS NULL`, string(ref))
	if err != nil {
		return 0, fmt.Errorf("destroy person keys: %w", err)
	}
	k.forgetLocally(ref)
	return tag.RowsAffected(), nil
}

func dedupe(s []string) []string {
	seen := make(map[string]struct{}, len(s))
	out := s[:0]
	for _, x := range s {
		if _, ok := seen[x]; !ok {
			seen[x] = struct{}{}
			out = append(out, x)
		}
	}
	return out
}

// Plain turns an opened document into what people read: each personal value
// becomes its clear string, or domain.Forgotten.
func Plain(opened []byte) (json.RawMessage, error) {
	if !bytes.Contains(opened, clearMarker) {
		return opened, nil
	}
	return eachPersonal(opened, func(p personalObject) ([]byte, error) {
		v := domain.Forgotten
		if p.Value != nil && !p.Forgotten {
			v = *p.Value
		}
		return json.Marshal(v)
	})
}
