import { Module } from '@nestjs/common';
import { ReservationsModule } from '../reservations/reservations.module';
import { HealthController } from './health.controller';

/** `/health/live` and `/health/ready`. */
@Module({ imports: [ReservationsModule], controllers: [HealthController] })
export class HealthModule {}
