"""The commissioner's dashboard (issue 18): server-rendered pages and SVG charts of the reports."""
