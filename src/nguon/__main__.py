from nguon.cli import app

app()
