package fakecompute

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DefaultPageSize is how many items a list returns when the request has no
// maxResults, the API's own default and maximum; SetPageSize changes it.
const DefaultPageSize = 500

// item is one entry of a list: its JSON and the key it is sorted and paged
// by (its name, or zone and name in an aggregated list, which groups items
// by zone).
type item struct {
	key    string
	zone   string
	fields map[string]any
}

// listQuery is what a list request asks for: which items, and which page.
type listQuery struct {
	match func(fields map[string]any) bool
	size  int
	from  string // the key the page starts at; "" for the first page
}

func parseListQuery(q url.Values, defaultSize int) (listQuery, *apiError) {
	out := listQuery{size: defaultSize}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > DefaultPageSize {
			return out, invalidField("maxResults", v, "It must be between 0 and %d.", DefaultPageSize)
		}
		if n > 0 {
			out.size = n
		}
	}
	if v := q.Get("pageToken"); v != "" {
		from, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(from) == 0 {
			return out, invalidField("pageToken", v, "It is not a page token this server gave out.")
		}
		out.from = string(from)
	}
	if v := q.Get("orderBy"); v != "" && v != "name" {
		return out, invalidField("orderBy", v, "The fake sorts by name only.")
	}
	match, err := parseFilter(q.Get("filter"))
	if err != nil {
		return out, err
	}
	out.match = match
	return out, nil
}

// page filters items, sorts them by key and cuts out the page the query
// asks for. The page token is the key of the next page's first item, so
// that paging does not skip or repeat items when some are deleted in
// between.
func (q listQuery) page(items []item) (out []item, next string) {
	items = slices.DeleteFunc(items, func(it item) bool { return !q.match(it.fields) })
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.key, b.key) })
	start, _ := slices.BinarySearchFunc(items, q.from, func(it item, k string) int { return strings.Compare(it.key, k) })
	end := min(start+q.size, len(items))
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(items[end].key))
	}
	return items[start:end], next
}

// The filter expressions the fake understands. The API's list filter has
// two syntaxes: the old one, one "field eq|ne regexp" that must match the
// whole value, and the new one, comparisons "field = value" or "field !=
// value", each optionally in parentheses, all of which must hold.
var (
	regexpFilter  = regexp.MustCompile(`^\s*([A-Za-z][\w.]*)\s+(eq|ne)\s+(.*?)\s*$`)
	compareFilter = regexp.MustCompile(`^\s*(?:AND\s+)?\(?\s*([A-Za-z][\w.]*)\s*(!=|=)\s*("(?:[^"\\]|\\.)*"|[^\s()"]+)\s*\)?\s*`)
)

// parseFilter turns a list's filter into a predicate on an item's JSON.
// Fields are named by their JSON names, with dots into nested objects; a
// list field matches if any of its elements does.
func parseFilter(expr string) (func(map[string]any) bool, *apiError) {
	bad := func(why string) *apiError {
		return errorf(http.StatusBadRequest, "invalid", "Invalid list filter expression '%s': %s", expr, why)
	}
	if strings.TrimSpace(expr) == "" {
		return func(map[string]any) bool { return true }, nil
	}
	if m := regexpFilter.FindStringSubmatch(expr); m != nil {
		field, negate, pattern := m[1], m[2] == "ne", unquote(m[3])
		re, err := regexp.Compile(`^(?:` + pattern + `)$`)
		if err != nil {
			return nil, bad(err.Error())
		}
		return func(f map[string]any) bool {
			return slices.ContainsFunc(values(f, field), re.MatchString) != negate
		}, nil
	}
	type comparison struct {
		field, value string
		negate       bool
	}
	var all []comparison
	for rest := expr; strings.TrimSpace(rest) != ""; {
		m := compareFilter.FindStringSubmatch(rest)
		if m == nil {
			return nil, bad(fmt.Sprintf("the fake does not understand %q", rest))
		}
		all = append(all, comparison{field: m[1], value: unquote(m[3]), negate: m[2] == "!="})
		rest = rest[len(m[0]):]
	}
	return func(f map[string]any) bool {
		for _, c := range all {
			if slices.Contains(values(f, c.field), c.value) == c.negate {
				return false
			}
		}
		return true
	}, nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		if s[0] == '"' {
			if u, err := strconv.Unquote(s); err == nil {
				return u
			}
		}
		return s[1 : len(s)-1]
	}
	return s
}

// values returns the text of a field: one string for a scalar, one per
// element for a list, and "" for a missing field, which matches "".
func values(f map[string]any, field string) []string {
	var v any = f
	for part := range strings.SplitSeq(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return []string{""}
		}
		v = m[part]
	}
	switch t := v.(type) {
	case nil:
		return []string{""}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, fmt.Sprint(e))
		}
		return out
	default:
		return []string{fmt.Sprint(t)}
	}
}
