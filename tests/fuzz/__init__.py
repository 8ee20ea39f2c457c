"""Coverage-guided fuzz harnesses (atheris) for webfed's parsers, and their corpus replay."""
