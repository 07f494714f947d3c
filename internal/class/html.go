package class

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/cloudnativelab/lab/internal/grade"
)

// scoreboardPage is a page an instructor can project: one row per student, one column
// per check, the points and how long since each student last made progress. It
// reloads itself every 30 seconds, so a `lab class grade -o html --out` run again in a
// loop keeps the room's screen current.
var scoreboardPage = template.Must(template.New("scoreboard").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="30">
<title>{{.Class}}: {{.Checks}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; }
table { border-collapse: collapse; font-size: 1.4rem; }
th, td { border: 1px solid #ccc; padding: .4rem .8rem; text-align: center; }
td.name { text-align: left; }
.pass { background: #d4f7d4; } .fail { background: #fbd5d5; } .error { background: #fff2c2; }
</style>
</head>
<body>
<h1>{{.Class}}: {{.Checks}}</h1>
<p>Graded {{.GradedAt.Format "2006-01-02 15:04:05 UTC"}}. ✓ passed, ✗ failed, ! could not be evaluated.</p>
<table>
<tr><th>student</th>{{range .Columns}}<th>{{.}}</th>{{end}}<th>points</th><th>score</th><th>last progress</th></tr>
{{range .Rows}}<tr><td class="name">{{.Student}}</td>{{if .Error}}<td class="error" colspan="{{.Span}}">{{.Error}}</td>{{else}}{{range .Cells}}<td class="{{.Class}}" title="{{.Title}}">{{.Text}}</td>{{end}}<td>{{.Points}}</td><td>{{.Score}}</td>{{end}}<td>{{.Since}} ago</td></tr>
{{end}}</table>
</body>
</html>
`))

// HTML is the scoreboard as a page to project.
func (b *Scoreboard) HTML() ([]byte, error) {
	var buf bytes.Buffer
	err := scoreboardPage.Execute(&buf, b.page())
	return buf.Bytes(), err
}

// page is the scoreboard laid out for the template: its columns (a scenario's steps,
// or the checks) and a row of cells per student.
type page struct {
	*Scoreboard
	Columns []string
	Rows    []pageRow
}

type pageRow struct {
	Student, Error, Points, Score, Since string
	Span                                 int
	Cells                                []pageCell
}

type pageCell struct{ Class, Title, Text string }

func (b *Scoreboard) page() page {
	p := page{Scoreboard: b}
	for _, s := range b.Students {
		row := pageRow{Student: s.Student, Error: s.Error, Since: grade.FormatDuration(s.SinceProgress)}
		if s.Report != nil {
			row.Cells = cellsOf(b, s)
			row.Points = fmt.Sprintf("%d/%d", s.Report.Score.Awarded, s.Report.Score.Total)
			row.Score = fmt.Sprintf("%.0f%%", s.Report.Score.Percent)
			if p.Columns == nil {
				p.Columns = columnsOf(b, s)
			}
		}
		p.Rows = append(p.Rows, row)
	}
	for i := range p.Rows {
		p.Rows[i].Span = len(p.Columns) + 2
	}
	return p
}

func columnsOf(b *Scoreboard, s StudentScore) []string {
	if b.Steps != nil {
		return b.Steps
	}
	var cols []string
	for _, c := range s.Report.Checks {
		cols = append(cols, c.ID)
	}
	return cols
}

func cellsOf(b *Scoreboard, s StudentScore) []pageCell {
	var cells []pageCell
	if b.Steps != nil {
		for _, st := range s.Steps {
			class := "fail"
			if st.Passed {
				class = "pass"
			}
			cells = append(cells, pageCell{Class: class, Title: st.Title, Text: fmt.Sprintf("%d/%d", st.Awarded, st.Points)})
		}
		return cells
	}
	for _, c := range s.Report.Checks {
		title := c.Hint
		if c.Error != "" {
			title = c.Error
		}
		cells = append(cells, pageCell{Class: string(c.Outcome), Title: title, Text: markOf(c.Outcome)})
	}
	return cells
}

func markOf(o grade.Outcome) string {
	switch o {
	case grade.Pass:
		return "✓"
	case grade.Fail:
		return "✗"
	}
	return "!"
}
