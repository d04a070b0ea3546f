// Package corefile adds the federation plugin's stanza to a member
// cluster's Corefile (kubefed join) and takes out again exactly what it
// added (kubefed unjoin), leaving every other byte as it was.
//
// The stanza goes into the server block that has the kubernetes plugin,
// just before the kubernetes line:
//
//	federation cluster.local { # added by kubefed join
//	    myfederation example.com # added by kubefed join
//	    zone us-central1-a # added by kubefed join
//	    region us-central1 # added by kubefed join
//	}
//
// Every line join writes carries the comment Marker, which is how unjoin
// and a later join tell them from lines written by hand; those are never
// changed or removed.
package corefile

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Marker ends every line kubefed join writes into a Corefile.
const Marker = "# added by kubefed join"

// Plugin is the name of the CoreDNS plugin that answers for federated
// Services in a member cluster.
const Plugin = "federation"

// Keywords of the plugin's block besides the federations' lines.
const (
	zoneKey   = "zone"
	regionKey = "region"
)

// ErrNoKubernetes says no server block of the Corefile has the kubernetes
// plugin, so there is no cluster DNS for the federation plugin to join.
var ErrNoKubernetes = errors.New("no server block of the Corefile has the kubernetes plugin")

// Settings are what kubefed join writes into the stanza.
type Settings struct {
	// Federation is the federation's name, and Domain the DNS suffix of
	// its Services' names (example.com).
	Federation, Domain string
	// Zone and Region are the member's; empty ones are left out.
	Zone, Region string
}

// Result is the outcome of an edit.
type Result struct {
	// Corefile is the edited text; the input if nothing changed.
	Corefile string
	Changed  bool
	// Notes are what was left alone, and why, as sentences.
	Notes []string
	// Reload says the server block has the reload plugin, which makes
	// CoreDNS pick a changed Corefile up by itself.
	Reload bool
}

// edit replaces the bytes [start, end) of the source with text.
type edit struct {
	start, end int
	text       string
}

func (s *source) apply(edits []edit) (string, error) {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b strings.Builder
	at := 0
	for _, e := range edits {
		if e.start < at || e.end < e.start || e.end > len(s.text) {
			return "", fmt.Errorf("internal error: overlapping edits of the Corefile")
		}
		b.WriteString(s.text[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.WriteString(s.text[at:])
	return b.String(), nil
}

// plain says whether a value can be written as one bare word.
func plain(v string) bool {
	return v != "" && !strings.ContainsAny(v, " \t\r\n\v\f{}\"`#\\")
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

func (st Settings) validate() error {
	switch {
	case !plain(st.Federation):
		return fmt.Errorf("federation name %q cannot be written into a Corefile", st.Federation)
	case st.Federation == zoneKey || st.Federation == regionKey || st.Federation == "{" || st.Federation == "}":
		return fmt.Errorf("federation name %q is a keyword of the %s plugin", st.Federation, Plugin)
	case !plain(st.Domain):
		return fmt.Errorf("DNS domain %q cannot be written into a Corefile", st.Domain)
	case st.Zone != "" && !plain(st.Zone):
		return fmt.Errorf("zone %q cannot be written into a Corefile", st.Zone)
	case st.Region != "" && !plain(st.Region):
		return fmt.Errorf("region %q cannot be written into a Corefile", st.Region)
	}
	return nil
}

func read(corefile string) (*source, []*node, error) {
	s, err := lex(corefile)
	if err != nil {
		return nil, nil, err
	}
	nodes, err := parse(s)
	if err != nil {
		return nil, nil, err
	}
	return s, nodes, nil
}

// Join adds federation st.Federation to the federation plugin's stanza of
// the server block that has the kubernetes plugin, creating the stanza
// before the kubernetes line if there is none. A federation line join wrote
// earlier is brought up to date, as are the zone and region lines it wrote;
// lines written by hand are left as they are, with a note when they say
// otherwise. Joining twice changes nothing the second time.
func Join(corefile string, st Settings) (Result, error) {
	res := Result{Corefile: corefile}
	if err := st.validate(); err != nil {
		return res, err
	}
	st.Domain = strings.ToLower(strings.TrimSuffix(st.Domain, "."))
	s, nodes, err := read(corefile)
	if err != nil {
		return res, err
	}
	block, kube := target(s, nodes)
	if block == nil {
		return res, ErrNoKubernetes
	}
	res.Reload = s.child(block, "reload") != nil
	var stanzas []*node
	for _, c := range block.children {
		if s.name(c) == Plugin {
			stanzas = append(stanzas, c)
		}
	}
	var edits []edit
	switch len(stanzas) {
	case 0:
		e, err := s.newStanza(kube, st)
		if err != nil {
			return res, err
		}
		edits = []edit{e}
	case 1:
		if edits, err = s.updateStanza(stanzas[0], st, &res); err != nil {
			return res, err
		}
	default:
		return res, fmt.Errorf("line %d: the server block has %d %s stanzas; CoreDNS takes one", lineNumber(s.text, s.tokens[stanzas[1].toks[0]].start), len(stanzas), Plugin)
	}
	if len(edits) == 0 {
		return res, nil
	}
	out, err := s.apply(edits)
	if err != nil {
		return res, err
	}
	res.Corefile, res.Changed = out, true
	return res, nil
}

// target is the first server block with the kubernetes plugin, and the
// plugin's entry.
func target(s *source, nodes []*node) (block, kube *node) {
	for _, b := range nodes {
		if b.open < 0 {
			continue
		}
		if k := s.child(b, "kubernetes"); k != nil {
			return b, k
		}
	}
	return nil, nil
}

// indentUnit is one more level of indentation after ind, the indentation
// of a plugin in a server block: one level is ind itself, unless the
// plugins are not indented at all.
func indentUnit(ind string) string {
	if ind == "" {
		return "    "
	}
	return ind
}

// innerIndent is the indentation of the lines in n's block: that of its
// first child on a line of its own, else one level more than n's.
func (s *source) innerIndent(n *node, ind string) string {
	for _, c := range n.children {
		if ci, ok := s.indent(c.toks[0]); ok && len(ci) > len(ind) && strings.HasPrefix(ci, ind) {
			return ci
		}
	}
	return ind + indentUnit(ind)
}

func settingLine(indent, key, value, nl string) string {
	return indent + key + " " + value + " " + Marker + nl
}

// newStanza inserts a stanza of its own before the kubernetes line.
func (s *source) newStanza(kube *node, st Settings) (edit, error) {
	first := kube.toks[0]
	ind, ok := s.indent(first)
	if !ok {
		return edit{}, fmt.Errorf("line %d: the kubernetes plugin does not start a line of its own, so the %s stanza cannot go before it; add it by hand", lineNumber(s.text, s.tokens[first].start), Plugin)
	}
	pos := s.lineStart(s.tokens[first].start)
	nl := s.newline(s.tokens[first].start)
	inner := s.innerIndent(kube, ind)
	header := Plugin
	// The cluster domain: the first zone of the kubernetes plugin.
	if len(kube.toks) > 1 {
		if d := s.tokens[kube.toks[1]]; !d.quoted && plain(d.text) {
			header += " " + d.text
		}
	}
	var b strings.Builder
	b.WriteString(ind + header + " { " + Marker + nl)
	b.WriteString(settingLine(inner, st.Federation, st.Domain, nl))
	if st.Zone != "" {
		b.WriteString(settingLine(inner, zoneKey, st.Zone, nl))
	}
	if st.Region != "" {
		b.WriteString(settingLine(inner, regionKey, st.Region, nl))
	}
	b.WriteString(ind + "}" + nl)
	return edit{start: pos, end: pos, text: b.String()}, nil
}

// updateStanza brings an existing stanza up to date.
func (s *source) updateStanza(stanza *node, st Settings, res *Result) ([]edit, error) {
	line := lineNumber(s.text, s.tokens[stanza.toks[0]].start)
	if stanza.open < 0 {
		return nil, fmt.Errorf("line %d: the %s plugin has no block { } to add federation %s to; edit it by hand", line, Plugin, st.Federation)
	}
	ind, ok := s.indent(stanza.toks[0])
	if !ok {
		ind = ""
	}
	inner := s.innerIndent(stanza, ind)
	nl := s.newline(s.tokens[stanza.open].start)

	var fed, lastFed, zone, region *node
	for _, c := range stanza.children {
		switch name := s.name(c); name {
		case zoneKey:
			if zone == nil {
				zone = c
			}
		case regionKey:
			if region == nil {
				region = c
			}
		default:
			if name == st.Federation && fed == nil {
				fed = c
			}
			lastFed = c
		}
	}

	// replace rewrites a line join wrote earlier.
	replace := func(n *node, key, value string) (edit, error) {
		sp, ok := s.wholeLines(n.toks[0], n.last())
		if !ok {
			return edit{}, fmt.Errorf("line %d: the line of %s in the %s stanza shares its line with other settings; edit it by hand", lineNumber(s.text, s.tokens[n.toks[0]].start), key, Plugin)
		}
		ci, _ := s.indent(n.toks[0])
		return edit{start: sp.start, end: sp.end, text: settingLine(ci, key, value, s.newline(s.tokens[n.last()].end))}, nil
	}
	var edits []edit

	// The federation's line: after the other federations', else at the
	// top of the block.
	switch {
	case fed == nil:
		pos := -1
		if lastFed != nil {
			if sp, ok := s.wholeLines(lastFed.toks[0], lastFed.last()); ok && sp.end <= s.tokens[stanza.close].start {
				pos = sp.end
			}
		}
		if pos < 0 {
			top := s.lineEnd(s.tokens[stanza.open].end)
			if s.restIsBlank(stanza.open) && top <= s.tokens[stanza.close].start && s.lineBoundary(top) {
				pos = top
			}
		}
		if pos < 0 {
			return nil, fmt.Errorf("line %d: the %s stanza is not laid out one setting a line, so federation %s cannot be added; edit it by hand", line, Plugin, st.Federation)
		}
		edits = append(edits, edit{start: pos, end: pos, text: settingLine(inner, st.Federation, st.Domain, nl)})
	case !s.marked(fed.last()):
		if a := s.args(fed); len(a) != 1 || !sameName(a[0], st.Domain) {
			res.Notes = append(res.Notes, fmt.Sprintf("line %d: federation %s is written by hand with domain %s, not %s; left as it is, edit it by hand",
				lineNumber(s.text, s.tokens[fed.toks[0]].start), st.Federation, strings.Join(a, " "), st.Domain))
		}
	default:
		if a := s.args(fed); fed.open >= 0 || len(a) != 1 || a[0] != st.Domain {
			e, err := replace(fed, st.Federation, st.Domain)
			if err != nil {
				return nil, err
			}
			edits = append(edits, e)
		}
	}

	// Zone and region: at the end of the block.
	for _, kv := range []struct {
		key, value string
		n          *node
	}{{zoneKey, st.Zone, zone}, {regionKey, st.Region, region}} {
		switch {
		case kv.value == "":
		case kv.n == nil:
			closeTok := stanza.close
			pos := s.lineStart(s.tokens[closeTok].start)
			if _, ok := s.indent(closeTok); !ok || pos <= s.tokens[stanza.open].start {
				return nil, fmt.Errorf("line %d: the %s stanza does not end with '}' on a line of its own, so its %s cannot be added; edit it by hand", line, Plugin, kv.key)
			}
			edits = append(edits, edit{start: pos, end: pos, text: settingLine(inner, kv.key, kv.value, nl)})
		case !s.marked(kv.n.last()):
			if a := s.args(kv.n); len(a) != 1 || a[0] != kv.value {
				res.Notes = append(res.Notes, fmt.Sprintf("line %d: the %s stanza's %s is written by hand as %s, but the cluster's nodes say %s; left as it is",
					lineNumber(s.text, s.tokens[kv.n.toks[0]].start), Plugin, kv.key, strings.Join(a, " "), kv.value))
			}
		default:
			if a := s.args(kv.n); kv.n.open >= 0 || len(a) != 1 || a[0] != kv.value {
				e, err := replace(kv.n, kv.key, kv.value)
				if err != nil {
					return nil, err
				}
				edits = append(edits, e)
			}
		}
	}
	return edits, nil
}

// restIsBlank says whether only blanks and a comment follow token t on its
// physical line.
func (s *source) restIsBlank(t int) bool {
	tail := s.tokens[t].end
	end := s.lineEnd(tail)
	rest := s.text[tail:end]
	if c, ok := s.comment(t); ok {
		rest = s.text[tail:c.start] + s.text[c.end:end]
	}
	return strings.Trim(rest, " \t\r\n") == ""
}

// Unjoin takes federation out of every federation stanza, removing the
// lines kubefed join added for it: the federation's line; the zone and
// region lines join added once no federation line of join's is left; and
// the whole stanza if join created it and nothing written by hand is in
// it. Lines and stanzas written by hand stay.
func Unjoin(corefile, federation string) (Result, error) {
	res := Result{Corefile: corefile}
	s, nodes, err := read(corefile)
	if err != nil {
		return res, err
	}
	if b, _ := target(s, nodes); b != nil {
		res.Reload = s.child(b, "reload") != nil
	}
	var edits []edit
	for _, block := range nodes {
		for _, stanza := range block.children {
			if s.name(stanza) != Plugin || stanza.open < 0 {
				continue
			}
			edits = append(edits, s.unjoinStanza(stanza, federation, &res)...)
		}
	}
	if len(edits) == 0 {
		return res, nil
	}
	out, err := s.apply(edits)
	if err != nil {
		return res, err
	}
	res.Corefile, res.Changed = out, true
	return res, nil
}

func (s *source) unjoinStanza(stanza *node, federation string, res *Result) []edit {
	var ours, rest []*node
	named := false
	for _, c := range stanza.children {
		switch {
		case s.name(c) == federation && s.marked(c.last()):
			ours = append(ours, c)
		case s.name(c) == federation:
			named = true
			rest = append(rest, c)
		default:
			rest = append(rest, c)
		}
	}
	if len(ours) == 0 && !named {
		return nil
	}
	feds, ourFeds, allOurs := 0, 0, true
	for _, c := range rest {
		marked := s.marked(c.last())
		allOurs = allOurs && marked
		if name := s.name(c); name != zoneKey && name != regionKey {
			feds++
			if marked {
				ourFeds++
			}
		}
	}
	created := s.marked(stanza.open)
	line := lineNumber(s.text, s.tokens[stanza.toks[0]].start)
	if created && feds == 0 {
		// The plugin refuses a stanza without federations, so the one
		// join created goes even if lines were written into it since.
		if sp, ok := s.wholeLines(stanza.toks[0], stanza.close); ok {
			if !allOurs || !s.onlyMarkers(sp) {
				res.Notes = append(res.Notes, fmt.Sprintf("line %d: removed the %s stanza kubefed join created with the lines written into it since: the plugin refuses a stanza without federations", line, Plugin))
			}
			return []edit{{start: sp.start, end: sp.end}}
		}
	}
	var edits []edit
	remove := func(n *node) {
		if sp, ok := s.wholeLines(n.toks[0], n.last()); ok {
			edits = append(edits, edit{start: sp.start, end: sp.end})
			return
		}
		res.Notes = append(res.Notes, fmt.Sprintf("line %d: the line kubefed join added for %s shares its line with other settings; remove it by hand",
			lineNumber(s.text, s.tokens[n.toks[0]].start), s.name(n)))
	}
	for _, n := range ours {
		remove(n)
	}
	if created {
		if feds > 0 && ourFeds < feds {
			res.Notes = append(res.Notes, fmt.Sprintf("line %d: kept the %s stanza kubefed join created: federations written by hand were added to it", line, Plugin))
		}
		return edits
	}
	if feds == 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("line %d: the %s stanza written by hand names no federation any more, which the plugin refuses: remove it by hand", line, Plugin))
	}
	if ourFeds == 0 {
		for _, c := range rest {
			if name := s.name(c); (name == zoneKey || name == regionKey) && s.marked(c.last()) {
				remove(c)
			}
		}
	}
	return edits
}

// onlyMarkers says whether every comment within sp is join's marker.
func (s *source) onlyMarkers(sp span) bool {
	for _, c := range s.comments {
		if c.start >= sp.start && c.start < sp.end && strings.TrimSpace(s.text[c.start:c.end]) != Marker {
			return false
		}
	}
	return true
}

// Snippet is the stanza for an admin to add by hand, before the kubernetes
// line of the server block for clusterDomain.
func Snippet(clusterDomain string, st Settings) string {
	header := Plugin
	if clusterDomain != "" {
		header += " " + clusterDomain
	}
	lines := []string{header + " {", "    " + st.Federation + " " + strings.ToLower(strings.TrimSuffix(st.Domain, "."))}
	if st.Zone != "" {
		lines = append(lines, "    "+zoneKey+" "+st.Zone)
	}
	if st.Region != "" {
		lines = append(lines, "    "+regionKey+" "+st.Region)
	}
	return strings.Join(append(lines, "}"), "\n")
}

// Diff shows what changed between two versions of a Corefile: the lines
// from the first that differs to the last, removed ones prefixed "- ",
// added ones "+ ", and the line before and after the change for context,
// prefixed "  ".
func Diff(before, after string) []string {
	if before == after {
		return nil
	}
	a, b := lines(before), lines(after)
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	q := 0
	for q < len(a)-p && q < len(b)-p && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	var out []string
	if p > 0 {
		out = append(out, "  "+a[p-1])
	}
	for _, l := range a[p : len(a)-q] {
		out = append(out, "- "+l)
	}
	for _, l := range b[p : len(b)-q] {
		out = append(out, "+ "+l)
	}
	if q > 0 {
		out = append(out, "  "+a[len(a)-q])
	}
	return out
}

func lines(text string) []string {
	ls := strings.Split(text, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}
