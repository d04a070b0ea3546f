package corefile

import "fmt"

// maxDepth bounds the nesting of blocks; CoreDNS's own configurations go
// three deep.
const maxDepth = 50

// node is an entry of a Corefile: a server block at the top (its keys
// and its plugins), a plugin line inside one (its name and arguments, and
// its block of settings), and so on down.
type node struct {
	// toks are the indexes of its name and arguments in source.tokens.
	toks []int
	// open and close are the indexes of the braces of its block, -1
	// without one.
	open, close int
	children    []*node
}

// last is the index of its last token.
func (n *node) last() int {
	if n.close >= 0 {
		return n.close
	}
	return n.toks[len(n.toks)-1]
}

type parser struct {
	s *source
	i int
}

// parse reads the structure of a lexed Corefile: an entry starts a logical
// line, its arguments follow on that line, and a '{' among them opens its
// block, which a '}' closes.
func parse(s *source) ([]*node, error) {
	p := &parser{s: s}
	nodes, _, err := p.block(0)
	return nodes, err
}

func (p *parser) block(depth int) ([]*node, int, error) {
	if depth > maxDepth {
		return nil, -1, fmt.Errorf("line %d: blocks nested more than %d deep", p.line(p.i-1), maxDepth)
	}
	toks := p.s.tokens
	var nodes []*node
	for p.i < len(toks) {
		t := toks[p.i]
		if t.isClose() {
			if depth == 0 {
				return nil, -1, fmt.Errorf("line %d: '}' closes no block", p.line(p.i))
			}
			p.i++
			return nodes, p.i - 1, nil
		}
		if t.isOpen() {
			return nil, -1, fmt.Errorf("line %d: '{' without a name before it", p.line(p.i))
		}
		n := &node{toks: []int{p.i}, open: -1, close: -1}
		p.i++
		for p.i < len(toks) && !toks[p.i].lineStart && !toks[p.i].isClose() {
			if toks[p.i].isOpen() {
				n.open = p.i
				p.i++
				children, end, err := p.block(depth + 1)
				if err != nil {
					return nil, -1, err
				}
				n.children, n.close = children, end
				break
			}
			n.toks = append(n.toks, p.i)
			p.i++
		}
		nodes = append(nodes, n)
	}
	if depth > 0 {
		return nil, -1, fmt.Errorf("a '{' is never closed: the Corefile ends first")
	}
	return nodes, -1, nil
}

func (p *parser) line(i int) int {
	if i < 0 || i >= len(p.s.tokens) {
		return lineNumber(p.s.text, len(p.s.text))
	}
	return lineNumber(p.s.text, p.s.tokens[i].start)
}

func (s *source) name(n *node) string { return s.tokens[n.toks[0]].text }

// args are the texts of its arguments.
func (s *source) args(n *node) []string {
	out := make([]string, 0, len(n.toks)-1)
	for _, t := range n.toks[1:] {
		out = append(out, s.tokens[t].text)
	}
	return out
}

// child is the first child of n called name, if any.
func (s *source) child(n *node, name string) *node {
	for _, c := range n.children {
		if s.name(c) == name {
			return c
		}
	}
	return nil
}
