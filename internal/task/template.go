package task

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
)

// Template is a compiled Jinja template (gonja v2). Undefined variables are
// errors, not empty strings: a misspelt field must not silently produce an
// empty prompt for every item.
type Template struct {
	src string
	t   *exec.Template
}

// strictConfig is Jinja's defaults plus StrictUndefined.
func strictConfig() *config.Config {
	c := config.New()
	c.StrictUndefined = true
	return c
}

// Compile parses src.
func Compile(src string) (*Template, error) {
	sum := sha256.Sum256([]byte(src))
	id := "tpl-" + hex.EncodeToString(sum[:8])
	base, err := loaders.NewFileSystemLoader("")
	if err != nil {
		return nil, err
	}
	l, err := loaders.NewShiftedLoader(id, bytes.NewReader([]byte(src)), base)
	if err != nil {
		return nil, err
	}
	t, err := exec.NewTemplate(id, strictConfig(), l, gonja.DefaultEnvironment)
	if err != nil {
		return nil, fmt.Errorf("template does not parse: %w", err)
	}
	return &Template{src: src, t: t}, nil
}

// Render executes the template with vars as its context.
func (t *Template) Render(vars map[string]any) (string, error) {
	out, err := t.t.ExecuteToString(exec.NewContext(vars))
	if err != nil {
		return "", err
	}
	return out, nil
}
