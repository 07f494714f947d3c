package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pterm/pterm"
	"sigs.k8s.io/yaml"
)

// Printer writes a command's data to Out in the chosen format.
type Printer struct {
	io     *IO
	format Format
}

// Printer returns a Printer for the format (see ParseFormat).
func (s *IO) Printer(format Format) *Printer {
	return &Printer{io: s, format: format}
}

// Format is the format the Printer writes.
func (p *Printer) Format() Format { return p.format }

// View is data laid out for people: a *Table or *Details.
type View interface {
	// render writes the view; tty says whether w is a terminal.
	render(w io.Writer, tty bool, paint painter) error
}

// Print writes data as pretty JSON or YAML, or, for the table format, the View that
// human builds from it (YAML when human is nil). human is only called for the table
// format, so building the view costs nothing otherwise.
func (p *Printer) Print(data any, human func() View) error {
	switch {
	case p.format == FormatJSON:
		return writeJSON(p.io.Out, data)
	case p.format == FormatYAML || human == nil:
		return writeYAML(p.io.Out, data)
	default:
		return human().render(p.io.Out, p.io.IsTTY, p.io.outPainter())
	}
}

func writeJSON(w io.Writer, data any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<none>" and "a&b" stay readable
	return enc.Encode(data)
}

func writeYAML(w io.Writer, data any) error {
	out, err := yaml.Marshal(data)
	if err != nil {
		return fmt.Errorf("encoding YAML: %w", err)
	}
	_, err = w.Write(out)
	return err
}

// Table is rows under headers, as `lab list` shows them.
type Table struct {
	Headers []string
	Rows    [][]string
}

// NewTable starts a table with the given column headers.
func NewTable(headers ...string) *Table { return &Table{Headers: headers} }

// AddRow appends a row; missing cells are left empty, extra cells are dropped.
func (t *Table) AddRow(cells ...string) *Table {
	row := make([]string, len(t.Headers))
	copy(row, cells)
	t.Rows = append(t.Rows, row)
	return t
}

func (t *Table) render(w io.Writer, tty bool, paint painter) error {
	if tty {
		return t.renderTTY(w, paint)
	}
	return t.renderPlain(w)
}

// renderTTY draws the table with pterm, header in bold over a rule. The colours are
// put into the cells and separators rather than into pterm styles, so that they
// follow this IO's colour setting and not pterm's global one.
func (t *Table) renderTTY(w io.Writer, paint painter) error {
	header := make([]string, len(t.Headers))
	for i, h := range t.Headers {
		// One line per header cell keeps the rule on the second line.
		header[i] = paint.bold(cellCleaner.Replace(h))
	}
	printer := pterm.TablePrinter{
		HasHeader:          true,
		Separator:          paint.dim(" │ "),
		HeaderRowSeparator: "─",
		LeftAlignment:      true,
		Data:               append(pterm.TableData{header}, t.Rows...),
	}
	out, err := printer.Srender()
	if err != nil {
		return err
	}
	lines := strings.Split(trimLineEnds(out), "\n")
	if len(lines) > 1 {
		lines[1] = paint.dim(lines[1]) // the rule, dimmed as a whole rather than per "─"
	}
	_, err = io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// renderPlain writes columns aligned with spaces, no borders and no colour, which is
// what grep, awk and cut expect.
func (t *Table) renderPlain(w io.Writer) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
	writeTabbedRow(tw, t.Headers)
	for _, row := range t.Rows {
		writeTabbedRow(tw, row)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, trimLineEnds(b.String()))
	return err
}

// trimLineEnds drops the padding that both pterm and tabwriter leave after the last
// cell of a row, which only shows as noise in diffs and copied text.
func trimLineEnds(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRight(line, " ")
	}
	return strings.Join(lines, "\n")
}

// cellCleaner keeps a cell on one line and in one column.
var cellCleaner = strings.NewReplacer("\n", " ", "\t", " ")

func writeTabbedRow(w io.Writer, cells []string) {
	clean := make([]string, len(cells))
	for i, c := range cells {
		clean[i] = cellCleaner.Replace(c)
	}
	fmt.Fprintln(w, strings.Join(clean, "\t"))
}

// Details is one object as aligned "Key: value" lines, as `lab status` shows it.
type Details struct {
	rows []detailRow
}

type detailRow struct {
	key, value string
	note       bool
}

// NewDetails starts an empty details view.
func NewDetails() *Details { return &Details{} }

// Add appends a "Key: value" line.
func (d *Details) Add(key, value string) *Details {
	d.rows = append(d.rows, detailRow{key: key, value: value})
	return d
}

// Note appends a "Note: text" line, dimmed on a colour terminal: for remarks such as
// what to run next.
func (d *Details) Note(text string) *Details {
	d.rows = append(d.rows, detailRow{key: "Note", value: text, note: true})
	return d
}

// render aligns the values one column after the longest key; lines of a multi-line
// value after the first are indented to that column too.
func (d *Details) render(w io.Writer, _ bool, paint painter) error {
	width := 0
	for _, r := range d.rows {
		width = max(width, len(r.key)+len(":"))
	}
	var b strings.Builder
	for _, r := range d.rows {
		label := r.key + ":"
		value := indentLines(r.value, strings.Repeat(" ", width+2))
		if r.note {
			value = paint.dim(value)
		}
		b.WriteString(paint.bold(label))
		if value != "" {
			b.WriteString(strings.Repeat(" ", width+2-len(label)) + value)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Sections are views shown one after the other with a blank line between, such as an
// object's details and then tables of what it owns.
type Sections []View

func (s Sections) render(w io.Writer, tty bool, paint painter) error {
	for i, v := range s {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if err := v.render(w, tty, paint); err != nil {
			return err
		}
	}
	return nil
}
