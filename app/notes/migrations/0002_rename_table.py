from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('notes', '0001_initial'),
    ]

    # From app_note, the table of the app's former label, to this app's own name, notes_note.
    operations = [
        migrations.AlterModelTable(
            name='note',
            table=None,
        ),
    ]
