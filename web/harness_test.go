package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/notify/mail"
	"partners/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// service is the whole service with the web app mounted, its emails
// written to a folder.
type service struct {
	*apitest.Server
	URL     string
	MailDir string
	Clock   *apitest.Clock
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startService runs the service on a fresh database. edit adjusts the web
// app's configuration.
func startService(t *testing.T, edit func(*web.Config)) *service {
	t.Helper()
	return startServiceWith(t, apitest.Options{}, edit)
}

// startServiceWith is startService with the API's options (limits).
func startServiceWith(t *testing.T, opts apitest.Options, edit func(*web.Config)) *service {
	t.Helper()
	_, pool := pgtest.Fresh(t)
	dir := t.TempDir()
	svc := &service{MailDir: dir, Clock: apitest.NewClock()}
	opts.Mail = mail.NewFileSender(dir, "partners@test", quietLog())
	opts.Mount = func(s *apitest.Server) {
		svc.URL = s.URL
		cfg := web.Config{App: s.App, Pool: s.Pool, Projector: s.Projector, Log: quietLog(), PublicURL: s.URL,
			DevSignIn: true, Now: svc.Clock.Now, Limiter: s.API.Limiter()}
		if edit != nil {
			edit(&cfg)
		}
		if _, err := web.Mount(s.API.Engine(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	svc.Server = apitest.Start(t, pool, opts)
	return svc
}

var linkInMail = regexp.MustCompile(regexp.QuoteMeta(apitest.PublicURL) + `(/(?:invitations|member-invitations|accountant-invitations|collaborators/activate)/[A-Za-z0-9_-]+)`)

// mailTo waits for the email to addr whose body holds a link, and returns
// that link on the test server (the emails link to apitest.PublicURL).
func (s *service) mailTo(t *testing.T, addr, pathPrefix string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(s.MailDir, "*.eml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			text := strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(string(b))
			if !strings.Contains(strings.ToLower(text), "to: <"+addr+">") && !strings.Contains(strings.ToLower(text), "to: "+addr) {
				continue
			}
			for _, m := range linkInMail.FindAllStringSubmatch(text, -1) {
				if strings.HasPrefix(m[1], pathPrefix) {
					return s.URL + m[1]
				}
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a folder another process writes: no event to wait on
	}
	t.Fatalf("no email to %s with a %s link in %s", addr, pathPrefix, s.MailDir)
	return ""
}

// browser is a person's HTTP client: cookies, redirects followed, and the
// last page's CSRF token for the next form.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	body string
	url  string
	code int
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (b *browser) do(req *http.Request) *browser {
	b.t.Helper()
	req.Header.Set("Accept-Language", "fr")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	b.body, b.url, b.code = string(body), res.Request.URL.String(), res.StatusCode
	return b
}

func (b *browser) get(path string) *browser {
	b.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = b.base + path
	}
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post submits a form as the last page's forms would, with its CSRF token.
func (b *browser) post(path string, form url.Values) *browser {
	b.t.Helper()
	if m := csrfField.FindStringSubmatch(b.body); m != nil && !form.Has("csrf") {
		form.Set("csrf", m[1])
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) must(code int, contains ...string) *browser {
	b.t.Helper()
	if b.code != code {
		b.t.Fatalf("%s: status %d, want %d\n%s", b.url, b.code, code, b.body)
	}
	for _, s := range contains {
		if !strings.Contains(b.body, s) {
			b.t.Fatalf("%s: page lacks %q\n%s", b.url, s, b.body)
		}
	}
	return b
}

// signIn uses the development form.
func (b *browser) signIn(name, email string) *browser {
	b.t.Helper()
	return b.get("/signin").post("/signin/dev", url.Values{"name": {name}, "email": {email}}).must(http.StatusOK)
}

var orgInPath = regexp.MustCompile(`/o/([0-9a-f-]{36})/`)

// org is the organization of the page the browser is on.
func (b *browser) org() string {
	b.t.Helper()
	m := orgInPath.FindStringSubmatch(b.url)
	if m == nil {
		b.t.Fatalf("not on an organization's page: %s", b.url)
	}
	return m[1]
}

// devUser is the user id the development form gives an email.
func (s *service) devUser(email string) string { return "dev|" + string(s.App.Store.Keys().Ref(email)) }
