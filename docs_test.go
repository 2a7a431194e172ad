package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// TestDocLinks: every link in README.md and docs/*.md resolves. A relative
// link names a file or directory of the repository, and its #anchor a
// heading of the target Markdown file under GitHub's rules (see slug);
// http(s) links are not fetched, only parsed.
func TestDocLinks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"README.md"}, files...)
	problems, links := checkLinks(".", files)
	for _, p := range problems {
		t.Error(p)
	}
	if links < 50 {
		t.Errorf("found only %d links in %v; is the link parser broken?", links, files)
	}
}

// TestDocLinksReportsBroken proves the checker fails on what it must catch.
func TestDocLinksReportsBroken(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/b.md", "# B\n\n## Tests\n\n## Tests\n\n```sh\n# not a heading\n```\n")
	write("README.md", strings.Join([]string{
		"# Title",
		"[ok](docs/b.md#tests-1) [ok](#title) [ok](docs) [ok](https://example.com/x)",
		"[spans a",
		"line](docs/missing.md)",
		"[bad anchor](docs/b.md#tests-2) [code block](docs/b.md#not-a-heading)",
		"[bad url](https:///nohost) [outside](../x.md) `[in code](nowhere.md)`",
	}, "\n"))
	problems, _ := checkLinks(root, []string{"README.md", "docs/b.md"})
	want := []string{
		"README.md: [spans a line](docs/missing.md):",
		"README.md: [bad anchor](docs/b.md#tests-2): no heading",
		"README.md: [code block](docs/b.md#not-a-heading): no heading",
		"README.md: [bad url](https:///nohost): ",
		"README.md: [outside](../x.md): outside the repository",
	}
	if len(problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(problems), len(want), strings.Join(problems, "\n"))
	}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.HasPrefix(p, w)
		}
		if !found {
			t.Errorf("no problem starting with %q in:\n%s", w, strings.Join(problems, "\n"))
		}
	}
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Security and compliance": "security-and-compliance",
		"Pipeline configuration (`pipeline` in `cdk.json` or `-c pipeline=true`)":            "pipeline-configuration-pipeline-in-cdkjson-or--c-pipelinetrue",
		"Measured: synth and test times (2-core machine, warm Go build cache)":               "measured-synth-and-test-times-2-core-machine-warm-go-build-cache",
		"Test MariaDB (internal/testdb)":                                                     "test-mariadb-internaltestdb",
		"Applications that never notice a rotation: connect, dbconnect, rotatectl, the demo": "applications-that-never-notice-a-rotation-connect-dbconnect-rotatectl-the-demo",
		"Rotation function → Build, *emphasis* and [a link](x.md) snake_case":                "rotation-function--build-emphasis-and-a-link-snake_case",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

var (
	fenceRe    = regexp.MustCompile("^ {0,3}(```|~~~)")
	atxRe      = regexp.MustCompile(`^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	setextRe   = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	htmlAnchor = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	comment    = regexp.MustCompile(`(?s)<!--.*?-->`)
	codeSpan   = regexp.MustCompile("(?s)``.*?``|`[^`]*`")
	// An inline link or image: [text](target) or [text](target "title"); the
	// text may span lines.
	inlineLink = regexp.MustCompile(`!?\[([^\[\]]*)\]\(\s*<?([^()\s<>]*)>?(?:\s+"[^"]*")?\s*\)`)
	refDef     = regexp.MustCompile(`(?m)^ {0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$`)
	autoLink   = regexp.MustCompile(`<((?:https?|mailto):[^>\s]*)>`)
)

// markdown is one file split into what links may point at and what may
// hold links.
type markdown struct {
	anchors map[string]bool
	prose   string // the text outside fenced code blocks, code spans and comments
}

// parseMarkdown reads the anchors (headings and <a name/id>) and the prose
// of a Markdown file. Headings get GitHub's ids: slug of the text, and
// -1, -2, ... for the second, third, ... heading with the same slug.
func parseMarkdown(text string) markdown {
	md := markdown{anchors: map[string]bool{}}
	seen := map[string]int{}
	add := func(heading string) {
		s := slug(heading)
		if n := seen[s]; n > 0 {
			md.anchors[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			md.anchors[s] = true
		}
		seen[s]++
	}
	var prose []string
	fence, prev := "", ""
	for _, line := range strings.Split(comment.ReplaceAllString(text, ""), "\n") {
		if m := fenceRe.FindStringSubmatch(line); m != nil {
			switch fence {
			case "":
				fence = m[1]
			case m[1]:
				fence = ""
			}
			prev = ""
			continue
		}
		if fence != "" {
			continue
		}
		if m := atxRe.FindStringSubmatch(line); m != nil {
			add(m[2])
		} else if setextRe.MatchString(line) && strings.TrimSpace(prev) != "" && !strings.HasPrefix(strings.TrimSpace(prev), "|") {
			add(strings.TrimSpace(prev))
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			md.anchors[m[1]] = true
		}
		prose = append(prose, line)
		prev = line
	}
	md.prose = codeSpan.ReplaceAllString(strings.Join(prose, "\n"), "code")
	return md
}

// slug is GitHub's heading id: the rendered text (no code or link markup;
// '*' goes with the punctuation, '_' emphasis is not recognized) in lower case, every character that is not a letter, mark, digit,
// '_', '-' or space removed, and spaces replaced with '-'.
func slug(heading string) string {
	text := strings.ReplaceAll(heading, "`", "")
	text = inlineLink.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r), unicode.IsMark(r), unicode.IsDigit(r), r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// checkLinks checks every link of files (slash-separated, relative to root)
// and returns one line per broken link and the number of links checked.
func checkLinks(root string, files []string) (problems []string, links int) {
	cache := map[string]*markdown{}
	load := func(rel string) (*markdown, error) {
		if md, ok := cache[rel]; ok {
			return md, nil
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		md := parseMarkdown(string(data))
		cache[rel] = &md
		return &md, nil
	}
	for _, file := range files {
		file = filepath.ToSlash(file)
		md, err := load(file)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		type link struct{ text, target string }
		var found []link
		for _, m := range inlineLink.FindAllStringSubmatch(md.prose, -1) {
			found = append(found, link{strings.Join(strings.Fields(m[1]), " "), m[2]})
		}
		for _, m := range refDef.FindAllStringSubmatch(md.prose, -1) {
			found = append(found, link{m[1], m[2]})
		}
		for _, m := range autoLink.FindAllStringSubmatch(md.prose, -1) {
			found = append(found, link{m[1], m[1]})
		}
		for _, l := range found {
			links++
			if err := checkTarget(root, file, l.target, load); err != nil {
				problems = append(problems, fmt.Sprintf("%s: [%s](%s): %v", file, l.text, l.target, err))
			}
		}
	}
	return problems, links
}

// checkTarget resolves one link target found in file.
func checkTarget(root, file, target string, load func(string) (*markdown, error)) error {
	if target == "" {
		return fmt.Errorf("empty link")
	}
	if i := strings.Index(target, ":"); i > 0 && !strings.ContainsAny(target[:i], "/#?") {
		u, err := url.Parse(target)
		switch {
		case err != nil:
			return err
		case u.Scheme == "mailto":
			if !strings.Contains(u.Opaque, "@") {
				return fmt.Errorf("not an email address")
			}
			return nil
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("scheme %q is neither http nor https", u.Scheme)
		case u.Host == "" || strings.HasPrefix(u.Host, ".") || strings.Contains(u.Host, ".."):
			return fmt.Errorf("no host name")
		}
		return nil
	}
	path, anchor, _ := strings.Cut(target, "#")
	path, err := url.PathUnescape(path)
	if err != nil {
		return err
	}
	rel := file
	if path != "" {
		if strings.HasPrefix(path, "/") {
			return fmt.Errorf("absolute path; use one relative to %s", file)
		}
		rel = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(file), path)))
		if rel == ".." || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("outside the repository")
		}
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return fmt.Errorf("no such file or directory %s", rel)
		}
		if info.IsDir() && anchor != "" {
			return fmt.Errorf("#%s on a directory", anchor)
		}
	}
	if anchor == "" {
		return nil
	}
	if !strings.HasSuffix(rel, ".md") {
		return fmt.Errorf("#%s on a file that is not Markdown", anchor)
	}
	md, err := load(rel)
	if err != nil {
		return err
	}
	if !md.anchors[anchor] {
		return fmt.Errorf("no heading of %s has the id %q", rel, anchor)
	}
	return nil
}
