package veth

// Netfilter changes are made in batches: one iptables-save to learn what
// is there and one iptables-restore --noflush to add what is missing or
// drop what goes, instead of an iptables exec per check and per change
// (each costs milliseconds, and a networked container start made dozens).
// Callers hold the lock that owns the objects they change, so nothing of
// ours changes between the read and the write; other tools' rules may, but
// --noflush restores only touch the chains named in the input.

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// savedRule is one "-A" line of iptables-save, split into words.
type savedRule struct {
	chain string
	spec  []string
}

// tableState is one table as iptables-save printed it, kept up to date
// with the edits queued against it so later look-ups see them.
type tableState struct {
	chains map[string]bool
	rules  []savedRule
}

// tableEdit is the restore input queued for one table. New chains are
// declared first; a ":CHAIN" line for a chain that exists would flush it,
// which is why only chains missing from the saved state are declared.
type tableEdit struct {
	chains []string
	lines  []string
}

// batch is one family's read of the tables and its pending write.
type batch struct {
	fam    family
	state  map[string]*tableState
	edits  map[string]*tableEdit
	tables []string // edit order, so the restore input is deterministic
}

// newBatch reads every table of f with one iptables-save. A table the
// kernel does not have yet simply reads as empty.
func newBatch(f family) (*batch, error) {
	out, err := runIptables(f.save, nil)
	if err != nil {
		return nil, err
	}
	return parseSave(f, out), nil
}

// parseSave starts a batch from iptables-save output.
func parseSave(f family, out []byte) *batch {
	b := &batch{fam: f, state: map[string]*tableState{}, edits: map[string]*tableEdit{}}
	var cur *tableState
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			cur = b.table(strings.TrimPrefix(line, "*"))
		case cur == nil:
		case strings.HasPrefix(line, ":"):
			if name, _, _ := strings.Cut(line[1:], " "); name != "" {
				cur.chains[name] = true
			}
		case strings.HasPrefix(line, "-A "):
			if w := splitRule(line); len(w) >= 2 {
				cur.rules = append(cur.rules, savedRule{chain: w[1], spec: w[2:]})
			}
		}
	}
	return b
}

func (b *batch) table(name string) *tableState {
	t := b.state[name]
	if t == nil {
		t = &tableState{chains: map[string]bool{}}
		b.state[name] = t
	}
	return t
}

func (b *batch) edit(table string) *tableEdit {
	e := b.edits[table]
	if e == nil {
		e = &tableEdit{}
		b.edits[table] = e
		b.tables = append(b.tables, table)
	}
	return e
}

func (b *batch) chainExists(table, chain string) bool {
	return b.table(table).chains[chain]
}

// rules returns the rules of chain in order.
func (b *batch) rules(table, chain string) []savedRule {
	var out []savedRule
	for _, r := range b.table(table).rules {
		if r.chain == chain {
			out = append(out, r)
		}
	}
	return out
}

func (b *batch) exists(table, chain string, spec []string) bool {
	return slices.ContainsFunc(b.table(table).rules, func(r savedRule) bool {
		return r.chain == chain && slices.Equal(r.spec, spec)
	})
}

// ensureChain declares chain unless it exists.
func (b *batch) ensureChain(table, chain string) {
	if b.chainExists(table, chain) {
		return
	}
	b.table(table).chains[chain] = true
	e := b.edit(table)
	e.chains = append(e.chains, ":"+chain+" - [0:0]")
}

// appendUnique appends spec to chain unless it is already there.
func (b *batch) appendUnique(table, chain string, spec []string) {
	if b.exists(table, chain, spec) {
		return
	}
	t := b.table(table)
	t.rules = append(t.rules, savedRule{chain: chain, spec: spec})
	b.queue(table, "-A", chain, spec)
}

// insertFirstUnique puts spec at the head of chain unless it is already
// somewhere in it.
func (b *batch) insertFirstUnique(table, chain string, spec []string) {
	if b.exists(table, chain, spec) {
		return
	}
	t := b.table(table)
	t.rules = append([]savedRule{{chain: chain, spec: spec}}, t.rules...)
	b.queue(table, "-I", chain, append([]string{"1"}, spec...))
}

// deleteRule deletes one copy of spec from chain if there is one.
func (b *batch) deleteRule(table, chain string, spec []string) {
	t := b.table(table)
	i := slices.IndexFunc(t.rules, func(r savedRule) bool {
		return r.chain == chain && slices.Equal(r.spec, spec)
	})
	if i < 0 {
		return
	}
	t.rules = slices.Delete(t.rules, i, i+1)
	b.queue(table, "-D", chain, spec)
}

// deleteChain flushes and deletes chain if it exists. Jumps into it must
// have been deleted first, in this batch or before.
func (b *batch) deleteChain(table, chain string) {
	t := b.table(table)
	if !t.chains[chain] {
		return
	}
	delete(t.chains, chain)
	t.rules = slices.DeleteFunc(t.rules, func(r savedRule) bool { return r.chain == chain })
	b.queue(table, "-F", chain, nil)
	b.queue(table, "-X", chain, nil)
}

func (b *batch) queue(table, op, chain string, args []string) {
	words := []string{op, chain}
	for _, a := range args {
		words = append(words, quoteWord(a))
	}
	e := b.edit(table)
	e.lines = append(e.lines, strings.Join(words, " "))
}

// input is the restore input for the queued edits: one COMMIT per table,
// so each table changes atomically.
func (b *batch) input() []byte {
	var buf bytes.Buffer
	for _, name := range b.tables {
		e := b.edits[name]
		if len(e.chains) == 0 && len(e.lines) == 0 {
			continue
		}
		fmt.Fprintf(&buf, "*%s\n", name)
		for _, l := range e.chains {
			buf.WriteString(l + "\n")
		}
		for _, l := range e.lines {
			buf.WriteString(l + "\n")
		}
		buf.WriteString("COMMIT\n")
	}
	return buf.Bytes()
}

// commit applies the queued edits with one iptables-restore, or none when
// nothing was missing.
func (b *batch) commit() error {
	in := b.input()
	if len(in) == 0 {
		return nil
	}
	if _, err := runIptables(b.fam.restore, in, "--noflush", "--wait"); err != nil {
		return fmt.Errorf("%w; input was:\n%s", err, in)
	}
	return nil
}

// quoteWord quotes a word the way iptables-restore splits its input: on
// blanks, with double quotes grouping and backslash escaping inside them.
func quoteWord(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\"'\\") {
		return w
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(w) + `"`
}

// runIptables runs one of the iptables tools. A missing tool is an error
// that matches exec.ErrNotFound.
func runIptables(tool string, stdin []byte, args ...string) ([]byte, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", tool, err)
	}
	cmd := exec.Command(path, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run %s %s: %w: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
