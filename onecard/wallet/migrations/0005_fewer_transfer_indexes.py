"""Fewer indexes on wallet_transfer, the busiest table: every index costs every insert.

The single-column indexes of the foreign keys go; the composite indexes (account or customer,
then time), the unique client-id constraint and the partial unique indexes on ``pending`` and
``reverses`` serve those lookups. ``actor`` gets a partial index (terminal purchases have no
actor, so they skip it).

Only indexes change, so the database side is plain DROP/CREATE INDEX: on SQLite, Django's
AlterField would rebuild the table and silently drop the ledger's triggers (migration 0002).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = [
    ("wallet_transfer_actor_id_7ca87169", "actor_id"),
    ("wallet_transfer_credit_account_id_4bee1364", "credit_account_id"),
    ("wallet_transfer_debit_account_id_0b507e95", "debit_account_id"),
    ("wallet_transfer_group_customer_id_e5bee957", "group_customer_id"),
    ("wallet_transfer_pending_id_64a5582e", "pending_id"),
    ("wallet_transfer_reverses_id_6a15a1b1", "reverses_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('organizations', '0001_initial'),
        ('wallet', '0004_purchase_function'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name, _column in DROPPED],
                    [f'CREATE INDEX "{name}" ON "wallet_transfer" ("{column}")'
                     for name, column in DROPPED],
                ),
                migrations.RunSQL(
                    'CREATE INDEX "wallet_tr_actor" ON "wallet_transfer" ("actor_id") '
                    'WHERE "actor_id" IS NOT NULL',
                    'DROP INDEX IF EXISTS "wallet_tr_actor"',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='transfer',
                    name='actor',
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='+',
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name='transfer',
                    name='credit_account',
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='+',
                        to='wallet.account',
                    ),
                ),
                migrations.AlterField(
                    model_name='transfer',
                    name='debit_account',
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='+',
                        to='wallet.account',
                    ),
                ),
                migrations.AlterField(
                    model_name='transfer',
                    name='group_customer',
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='+',
                        to='organizations.groupcustomer',
                    ),
                ),
                migrations.AlterField(
                    model_name='transfer',
                    name='pending',
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='+',
                        to='wallet.transfer',
                    ),
                ),
                migrations.AlterField(
                    model_name='transfer',
                    name='reverses',
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='+',
                        to='wallet.transfer',
                    ),
                ),
                migrations.AddIndex(
                    model_name='transfer',
                    index=models.Index(condition=models.Q(('actor__isnull', False)),
                                       fields=['actor'], name='wallet_tr_actor'),
                ),
            ],
        ),
    ]
