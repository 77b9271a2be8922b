package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadOptions tune loading. The zero value reads the process environment.
type LoadOptions struct {
	// LookupEnv resolves ${VAR} in config text and, whenever they are
	// resolved, {env: NAME} secrets; nil means os.LookupEnv. Tests inject a
	// map so they never depend on the process environment.
	LookupEnv func(string) (string, bool)
}

// Load reads a config file, or every *.yaml file of a directory merged, and
// validates it. The error joins every problem found as *Error values.
func Load(path string) (*Config, error) { return LoadOptions{}.Load(path) }

// Parse reads one YAML document held in memory; filename is only used in
// positions and to resolve relative file paths.
func Parse(filename string, data []byte) (*Config, error) {
	return LoadOptions{}.Parse(filename, data)
}

// Load is the package Load with these options.
func (o LoadOptions) Load(path string) (*Config, error) {
	files, err := configFiles(path)
	if err != nil {
		return nil, err
	}
	srcs := make([]source, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &Error{Pos: Pos{File: f}, Msg: err.Error(), Err: ErrSyntax}
		}
		srcs = append(srcs, source{name: f, data: data})
	}
	return o.build(srcs)
}

// Parse is the package Parse with these options.
func (o LoadOptions) Parse(filename string, data []byte) (*Config, error) {
	return o.build([]source{{name: filename, data: data}})
}

type source struct {
	name string
	data []byte
}

// configFiles expands a directory into its *.yaml files, sorted, skipping
// hidden files (editor swap and backup files).
func configFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{Pos: Pos{File: path}, Msg: "cannot read config: " + errText(err), Err: ErrSyntax}
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	matches, err := filepath.Glob(filepath.Join(path, "*.yaml"))
	if err != nil {
		return nil, &Error{Pos: Pos{File: path}, Msg: err.Error(), Err: ErrSyntax}
	}
	var files []string
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), ".") {
			continue
		}
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			files = append(files, m)
		}
	}
	if len(files) == 0 {
		return nil, &Error{Pos: Pos{File: path}, Msg: "no *.yaml files in directory", Err: ErrSyntax}
	}
	sort.Strings(files)
	return files, nil
}

// errText drops the path os errors repeat, since Pos already names it.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (o LoadOptions) build(srcs []source) (*Config, error) {
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	cfg := &Config{positions: map[string]Pos{}}
	cfg.setDefaults()
	var errs []*Error
	for _, src := range srcs {
		cfg.Files = append(cfg.Files, src.name)
		doc, perr := parseYAML(src.name, src.data)
		if perr != nil {
			errs = append(errs, perr)
			continue
		}
		if doc == nil {
			continue
		}
		d := &decoder{cfg: cfg, file: src.name, lookup: lookup, budget: nodeBudget}
		d.document(doc)
		errs = append(errs, d.errs...)
	}
	cfg.name()
	cfg.inheritDefaults()
	cfg.linkStorePrevious()
	cfg.resolvePaths()
	failed := make(map[string]bool, len(errs))
	syntax := false
	for _, e := range errs {
		failed[e.Path] = true
		syntax = syntax || errors.Is(e, ErrSyntax)
	}
	// A file that did not parse leaves holes (a credential its checks
	// refer to, say); validating around them would only add noise.
	if !syntax {
		errs = append(errs, cfg.validate(failed)...)
	}
	sortErrors(cfg.Warnings)
	cfg.loadWarnings = append([]*Error(nil), cfg.Warnings...)
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return cfg, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses one file into a node tree; nil for an empty file.
func parseYAML(name string, data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(name, data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(name, data, err)
	default:
		return nil, &Error{Pos: Pos{File: name, Line: extra.Line, Col: extra.Column}, Err: ErrSyntax,
			Msg: "several YAML documents in one file; put each in its own file"}
	}
	return &doc, nil
}

// syntaxError turns the YAML library's message into a positioned error. A
// tab in indentation gets its own message: the library's ("found character
// that cannot start any token") does not say what to do.
func syntaxError(name string, data []byte, err error) *Error {
	if line, col, ok := tabIndent(data); ok {
		return &Error{Pos: Pos{File: name, Line: line, Col: col}, Path: tabPath(splitLines(data), line), Err: ErrSyntax,
			Msg: "syntax error: tab in indentation; YAML indents with spaces"}
	}
	msg := err.Error()
	p := Pos{File: name}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if e, ok := locate(name, data, msg, p.Line); ok {
		return e
	}
	return &Error{Pos: p, Msg: "syntax error: " + msg, Err: ErrSyntax}
}

// tabIndent finds the first tab among a line's leading whitespace.
func tabIndent(data []byte) (line, col int, ok bool) {
	for i, l := range bytes.Split(data, []byte("\n")) {
		for j, c := range l {
			if c == '\t' {
				return i + 1, j + 1, true
			}
			if c != ' ' {
				break
			}
		}
	}
	return 0, 0, false
}

// name fills the names the YAML keys carried.
func (c *Config) name() {
	for en, env := range c.Environments {
		env.Name = en
		for cn, cred := range env.Credentials {
			if cred == nil {
				continue
			}
			cred.Name, cred.Env = cn, en
		}
		for _, ch := range env.Checks {
			if ch != nil {
				ch.Env = en
			}
		}
	}
}

// resolvePaths makes TLS and web config file paths relative to the file
// that names them.
func (c *Config) resolvePaths() {
	c.Server.WebConfigFile = relativeTo(c.Pos("server.web_config_file").File, c.Server.WebConfigFile)
	fix := func(t *TLS, path string) {
		if t == nil {
			return
		}
		for _, f := range []struct {
			p   *string
			key string
		}{{&t.CAFile, "ca_file"}, {&t.CertFile, "cert_file"}, {&t.KeyFile, "key_file"}} {
			*f.p = relativeTo(c.Pos(path+"."+f.key).File, *f.p)
		}
	}
	fix(c.Store.Redis.TLS, "store.redis.tls")
	for _, env := range c.Environments {
		for i, ch := range env.Checks {
			if ch != nil {
				fix(ch.TLS, checkPath(env.Name, i)+".tls")
			}
		}
	}
}

func checkPath(env string, i int) string {
	return fmt.Sprintf("environments.%s.checks[%d]", env, i)
}

func credPath(env, name string) string {
	return "environments." + env + ".credentials." + name
}

// sortErrors orders errors by file, line and column so the output reads
// top to bottom.
func sortErrors(errs []*Error) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Pos, errs[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

func joinErrors(errs []*Error) error {
	sortErrors(errs)
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}
