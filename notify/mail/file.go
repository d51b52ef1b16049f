package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type fileSender struct {
	sender
	dir     string
	fromErr error
}

// NewFileSender returns a Sender that writes each message as an RFC 5322
// .eml file in dir instead of sending it (development, demos, tests). dir is
// created with mode 0700 if missing; files are written atomically with mode
// 0600 and named after the Message-ID, so sending the same message again
// replaces its file. A from address that does not parse makes every Send
// fail with ErrInvalidMessage.
func NewFileSender(dir, from string, logger *slog.Logger) Sender {
	base, err := newSender(from, logger)
	return &fileSender{sender: base, dir: dir, fromErr: err}
}

// Send writes m to its file. It checks ctx only before starting: a local
// write is short and must not be left half done.
func (s *fileSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return &SendError{MessageID: m.ID, Temporary: true, err: err, ctxErr: err}
	}
	if s.fromErr != nil {
		err := fmt.Errorf("%w: %v", ErrInvalidMessage, s.fromErr)
		return &SendError{MessageID: m.ID, reason: err.Error(), err: err}
	}
	var buf bytes.Buffer
	if err := s.writeEML(&buf, m, time.Now()); err != nil {
		return &SendError{MessageID: m.ID, reason: err.Error(), err: err}
	}
	path := filepath.Join(s.dir, EMLFileName(m.ID))
	if err := writeFileAtomic(s.dir, path, buf.Bytes()); err != nil {
		return &SendError{MessageID: m.ID, Temporary: true, reason: err.Error(), err: err}
	}
	s.logger.Info("mail written to file",
		"message_id", m.ID, "to", MaskEmail(m.To), "locale", string(m.Locale), "path", path)
	return nil
}

// EMLFileName is the file name NewFileSender uses for a Message-ID: the ID
// with characters outside [A-Za-z0-9._@+=-] replaced by '_' and, when
// anything had to be replaced or cut, a hash of the original ID appended,
// so two different IDs never share a file and the same ID always maps to
// the same file.
func EMLFileName(messageID string) string {
	const maxBase = 160
	var b strings.Builder
	changed := false
	for i, r := range messageID {
		ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("._@+=-", r))
		if ok && i == 0 && r == '.' {
			ok = false // no hidden files, no "." or ".."
		}
		if !ok {
			r, changed = '_', true
		}
		b.WriteRune(r)
	}
	name := b.String()
	if len(name) > maxBase {
		name, changed = name[:maxBase], true
	}
	if name == "" || changed {
		sum := sha256.Sum256([]byte(messageID))
		name += "-" + hex.EncodeToString(sum[:6])
	}
	return name + ".eml"
}

// writeFileAtomic writes data to a temporary file in dir and renames it to
// path, so readers see either the old or the new complete file.
func writeFileAtomic(dir, path string, data []byte) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating mail directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*.eml") // created with mode 0600
	if err != nil {
		return fmt.Errorf("creating temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("setting file mode: %w", err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing temporary file: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("syncing temporary file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing temporary file: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming temporary file: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil { // persist the rename; best effort
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
