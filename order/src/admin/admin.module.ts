import { type DynamicModule, Module } from '@nestjs/common';
import { AdminController } from './admin.controller';
import { ADMIN_TOKEN, AdminGuard } from './admin.guard';
import { AdminService } from './admin.service';

/** The admin API (off, answering 404, unless `ADMIN_TOKEN` is set). */
@Module({})
export class AdminModule {
  static forRoot(adminToken: string | undefined, orders: DynamicModule): DynamicModule {
    return {
      module: AdminModule,
      imports: [orders],
      controllers: [AdminController],
      providers: [{ provide: ADMIN_TOKEN, useValue: adminToken }, AdminGuard, AdminService],
    };
  }
}
