package corefile

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of a Corefile, with where it is in the source.
type token struct {
	// text is the word without its quotes; escapes stay as written.
	text string
	// start and end are its byte offsets in the source, quotes included.
	start, end int
	quoted     bool
	// lineStart says it begins a logical line: a newline that is neither
	// escaped nor inside quotes comes before it, or nothing does.
	lineStart bool
}

func (t token) isOpen() bool  { return !t.quoted && t.text == "{" }
func (t token) isClose() bool { return !t.quoted && t.text == "}" }

// span is a byte range of the source.
type span struct{ start, end int }

// source is a lexed Corefile.
type source struct {
	text     string
	tokens   []token
	comments []span // from '#' to the end of the line, without "\r\n"
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }

// lex splits a Corefile into tokens and comments the way CoreDNS reads it:
// words are separated by white space; a '#' that starts a word starts a
// comment running to the end of the line; a word starting with '"' or '`'
// runs to the matching quote, across newlines if need be ('"' allows
// backslash escapes); a backslash escapes the next character, and before a
// newline continues the logical line on the next one.
func lex(text string) (*source, error) {
	s := &source{text: text}
	newLine := true
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n':
			newLine = true
			i += size
		case isSpace(r):
			i += size
		case r == '#':
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text)
			} else {
				end += i
			}
			s.comments = append(s.comments, span{i, trimCR(text, i, end)})
			i = end
		case r == '\\' && continuation(text, i) > 0:
			// A backslash alone before the newline: the line goes on.
			i += continuation(text, i)
		case r == '"' || r == '`':
			end, err := quotedEnd(text, i)
			if err != nil {
				return nil, err
			}
			s.tokens = append(s.tokens, token{text: text[i+1 : end-1], start: i, end: end, quoted: true, lineStart: newLine})
			newLine = false
			i = end
		default:
			j := i
			next := -1
			for j < len(text) {
				c, n := utf8.DecodeRuneInString(text[j:])
				if isSpace(c) {
					break
				}
				if c == '\\' {
					if k := continuation(text, j); k > 0 {
						next = j + k
						break
					}
					if j+n < len(text) {
						_, m := utf8.DecodeRuneInString(text[j+n:])
						n += m
					}
				}
				j += n
			}
			s.tokens = append(s.tokens, token{text: text[i:j], start: i, end: j, lineStart: newLine})
			newLine = false
			i = j
			if next >= 0 {
				i = next
			}
		}
	}
	return s, nil
}

// continuation returns how many bytes an escaped newline at i takes
// ("\\\n" or "\\\r\n"), or 0 if there is none.
func continuation(text string, i int) int {
	switch {
	case strings.HasPrefix(text[i:], "\\\n"):
		return 2
	case strings.HasPrefix(text[i:], "\\\r\n"):
		return 3
	}
	return 0
}

// quotedEnd returns the offset after the quote that closes the one at i.
func quotedEnd(text string, i int) (int, error) {
	q := text[i]
	for j := i + 1; j < len(text); j++ {
		switch {
		case q == '"' && text[j] == '\\':
			j++
		case text[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("line %d: quote %c is never closed", lineNumber(text, i), q)
}

func trimCR(text string, start, end int) int {
	if end > start && text[end-1] == '\r' {
		return end - 1
	}
	return end
}

// lineNumber is the 1-based line of offset i, for messages.
func lineNumber(text string, i int) int {
	return strings.Count(text[:i], "\n") + 1
}

// lineStart is the offset of the start of the physical line holding i.
func (s *source) lineStart(i int) int {
	return strings.LastIndexByte(s.text[:i], '\n') + 1
}

// lineEnd is the offset after the newline ending the physical line
// holding i (the end of the text if there is none).
func (s *source) lineEnd(i int) int {
	if j := strings.IndexByte(s.text[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s.text)
}

// newline is the line ending of the physical line holding i: "\r\n" if it
// has one, else "\n".
func (s *source) newline(i int) string {
	end := s.lineEnd(i)
	if strings.HasSuffix(s.text[:end], "\r\n") {
		return "\r\n"
	}
	return "\n"
}

// indent is the white space before token t on its physical line, and
// whether there is nothing else.
func (s *source) indent(t int) (string, bool) {
	tok := s.tokens[t]
	ind := s.text[s.lineStart(tok.start):tok.start]
	return ind, tok.lineStart && strings.Trim(ind, " \t") == ""
}

// comment is the comment following token t on its line with only blanks
// in between, if any.
func (s *source) comment(t int) (span, bool) {
	end := s.tokens[t].end
	i := sort.Search(len(s.comments), func(i int) bool { return s.comments[i].start >= end })
	if i < len(s.comments) && strings.Trim(s.text[end:s.comments[i].start], " \t") == "" {
		return s.comments[i], true
	}
	return span{}, false
}

// marked says whether token t is followed by join's marker comment.
func (s *source) marked(t int) bool {
	c, ok := s.comment(t)
	return ok && strings.TrimSpace(s.text[c.start:c.end]) == Marker
}

// wholeLines returns the physical lines from token first through token
// last, newline included, if nothing but blanks and a trailing comment
// share them: then they can be replaced or removed without touching
// anything else.
func (s *source) wholeLines(first, last int) (span, bool) {
	if _, ok := s.indent(first); !ok {
		return span{}, false
	}
	start := s.lineStart(s.tokens[first].start)
	tail := s.tokens[last].end
	end := s.lineEnd(tail)
	rest := s.text[tail:end]
	if c, ok := s.comment(last); ok && c.end <= end {
		rest = s.text[tail:c.start] + s.text[c.end:end]
	}
	if strings.Trim(rest, " \t\r\n") != "" {
		return span{}, false
	}
	return span{start, end}, true
}

// lineBoundary says whether a line inserted at offset i (a line start)
// would be a line of its own: no token or comment spans it, and the line
// before does not go on through an escaped newline.
func (s *source) lineBoundary(i int) bool {
	if i != s.lineStart(i) {
		return false
	}
	for _, t := range s.tokens {
		if t.start < i && i < t.end {
			return false
		}
		if t.start >= i {
			return t.lineStart
		}
	}
	return i == 0 || continuationBefore(s.text, i) == 0
}

// continuationBefore says whether the newline before line start i is
// escaped.
func continuationBefore(text string, i int) int {
	switch {
	case strings.HasSuffix(text[:i], "\\\n"):
		return 2
	case strings.HasSuffix(text[:i], "\\\r\n"):
		return 3
	}
	return 0
}
